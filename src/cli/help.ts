/** `logsift --version` and `logsift <command> --help`: the text of each command's usage. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_KB, PACKAGE_ROOT } from './common.js';
import { DEFAULT_BATCH_LINES } from './scan.js';

const SCAN = `Usage: logsift scan [options]
Scans log lines (a file or stdin) against the KB and writes one JSON event per matched line.

  --kb PATH               KB file or directory, repeatable (default ${DEFAULT_KB})
  --input FILE|-          one message per line (default -, stdin)
  --emit matched|all      all: one event per input line, unmatched too (default matched)
  --format json|text      text: a readable line per match (default json)
  --input-format auto|raw|json   auto: a line that parses as a JSON object is a JSON log (default auto)
  --fields a,b.c          JSON log fields that are scanned
  --case-sensitive        the KB's regexes are case-insensitive by default
  --max-line-bytes N      longer lines are reported and skipped (default 1048576)
  --batch-size N          lines per native scan call (default ${DEFAULT_BATCH_LINES})
  --cache-dir DIR         compiled-database cache (default $LOGSIFT_CACHE_DIR, else ~/.cache/logsift)
  --no-cache              always compile
  --allow-invalid-records load the valid records and report the invalid ones
  --http-port PORT        serve /metrics on 127.0.0.1:PORT while scanning
  --min-strength S        weaker matches are listed, never the primary (default 0.5; 0: pure regex)
  --exact-budget MS       exact-engine time per line; over it the line is reported (default 50)
  --include TERM, --exclude TERM   KB filter: domain:NAME, category:NAME, id:GLOB (repeatable)
  --background FILE --max-background-rate R   drop records matching more than R of FILE's lines
  --suggest [--top N]     print templates of unmatched error lines, with draft records
`;

const RUN = `Usage: logsift run [--config FILE] [options]
The Kafka daemon: consumes log messages, writes enriched events, serves /metrics, /healthz, /readyz.
Flags override the config file, which overrides defaults and LOGSIFT_* environment variables.

  --config FILE           JSON config (see config/logsift.example.json)
  --brokers H:P,..        Kafka bootstrap brokers
  --input TOPIC,..        input topics
  --output TOPIC          enriched-event topic
  --group ID              consumer group id
  --kb PATH               KB file or directory, repeatable
  --delivery MODE         at-least-once (default) or exactly-once
  --min-strength S        matches weaker than S never become the primary (default 0.5)
  --exact-budget MS       exact-engine time per message (default 50)
  --include/--exclude TERM  KB filter: domain:NAME, category:NAME, id:GLOB
  --dlq TOPIC             dead-letter topic
  --unmatched TOPIC       topic for unmatched messages
  --http-port PORT        metrics and probes port
  --log-level LEVEL       fatal|error|warn|info|debug|trace
`;

const KB_CHECK = `Usage: logsift kb check [--kb PATH]... [--case-sensitive] [--include TERM]... [--exclude TERM]...
Classifies every record (native, prefilter, fallback, rejected), shows what a filter keeps and drops,
and flags exact-engine records prone to ReDoS; exit 1 on invalid or rejected records.
`;

const KB_LINT = `Usage: logsift kb lint [--kb PATH]... [--background FILE]... [--format text|json] [--max-background-rate R]
Per record, with severity and evidence: broad (matches more than R of the background lines; default
0.01), self-miss, duplicate, shadowed, empty or rejected. Exit 1 on errors only, not warnings.
`;

const KB_SUGGEST = `Usage: logsift kb suggest --input FILE [--kb PATH]... [--top N] [--format text|json|records]
Mines the input's unmatched error lines into templates, each with a draft seed-format record.
`;

const KB_IMPORT = `Usage: logsift kb import FILE
Converts deadends.dev canons (JSON Lines) to seed-format JSON Lines on stdout.
`;

const KB_COMPILE = `Usage: logsift kb compile [--kb PATH]... [--cache-dir DIR] [--portable] [--case-sensitive]
Compiles the KB's database into the cache directory and prints the file written.

  --portable              for a generic x86-64 CPU: loadable on any host (for images; see
                          LOGSIFT_KB_PREBUILT_DIR), instead of tuned for this one
`;

const KB = `Usage: logsift kb check|lint|suggest|import|compile ...
${KB_CHECK}
${KB_LINT}
${KB_SUGGEST}
${KB_IMPORT}
${KB_COMPILE}`;

const DLQ_REPLAY = `Usage: logsift dlq replay --brokers H:P --dlq TOPIC --to TOPIC [options]
Sends dead-lettered messages back to an input topic, without logsift's dlq.* headers.

  --config FILE           config file (Kafka client settings)
  --reason CODE           only messages dead-lettered for this reason
  --max N                 at most N messages
  --group ID              progress consumer group (default logsift-dlq-replay.<to>)
  --timeout SECONDS       give up after this long (default 60)
`;

const COMMANDS: Record<string, string> = {
  scan: SCAN,
  run: RUN,
  kb: KB,
  'kb check': KB_CHECK,
  'kb lint': KB_LINT,
  'kb suggest': KB_SUGGEST,
  'kb import': KB_IMPORT,
  'kb compile': KB_COMPILE,
  dlq: DLQ_REPLAY,
  'dlq replay': DLQ_REPLAY,
};

/** The usage text when argv asks for a command's help (`--help` or `-h` anywhere before `--`), else null. */
export function commandHelp(argv: readonly string[]): string | null {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  if (!args.includes('--help') && !args.includes('-h')) return null;
  const [command, sub] = args;
  if (command === undefined) return null;
  return COMMANDS[`${command} ${sub}`] ?? COMMANDS[command] ?? null;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
