/**
 * `logsift` command line: scan | run | kb check | kb import | dlq replay.
 * Parses arguments, wires dependencies, maps errors to exit codes (0 ok, 1 failure, 2 usage).
 */
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { DEFAULT_MESSAGE_FIELDS, Enricher, type InputFormat } from '../enrich/index.js';
import { defaultCacheDir } from '../matcher/index.js';
import type { LogsiftMetrics } from '../telemetry/index.js';
import { DEFAULT_KB, UsageError, formatError, loadKbAndMatcher, stderrReporter, type Io } from './common.js';
import { runScan, type ScanPool } from './scan.js';

const HELP = `logsift — match log messages against a knowledge base of error signatures

Usage:
  logsift scan [--kb PATH]... [--input FILE|-] [--emit matched|all] [--format json|text]
               [--input-format auto|raw|json] [--fields a,b.c] [--case-sensitive]
               [--max-line-bytes N] [--cache-dir DIR | --no-cache] [--allow-invalid-records]
               [--http-port PORT] [--threads N]
  logsift run  [--config FILE] [--brokers H:P,..] [--input TOPIC] [--output TOPIC] [--group ID]
               [--kb PATH]... [--delivery at-least-once] [--dlq TOPIC] [--unmatched TOPIC]
  logsift kb check  [--kb PATH]...     classify every record; exit 1 on invalid or rejected ones
  logsift kb import FILE               deadends.dev canons (JSON Lines) -> seed-format JSON Lines
  logsift dlq replay --brokers H:P --dlq TOPIC --to TOPIC [--reason CODE] [--max N]

Defaults: --kb ${DEFAULT_KB}, --input - (stdin), --emit matched, --format json,
--input-format auto, --fields ${DEFAULT_MESSAGE_FIELDS.join(',')}, --max-line-bytes 1048576,
--threads: the available cores, 1 on 2 cores or fewer (workers start once the input exceeds 4 batches).
`;

function stdio(): Io {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), stdout: process.stdout, stdin: process.stdin };
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer (got "${value}")`);
  return n;
}

async function scanCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kb: { type: 'string', multiple: true },
      input: { type: 'string', default: '-' },
      emit: { type: 'string' },
      format: { type: 'string' },
      'input-format': { type: 'string' },
      fields: { type: 'string' },
      'case-sensitive': { type: 'boolean', default: false },
      'max-line-bytes': { type: 'string' },
      'batch-size': { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      'allow-invalid-records': { type: 'boolean', default: false },
      'http-port': { type: 'string' },
      threads: { type: 'string' },
    },
    strict: true,
  });
  const fields = values.fields ? values.fields.split(',').map((f) => f.trim()).filter(Boolean) : [...DEFAULT_MESSAGE_FIELDS];
  const options = {
    input: values.input!,
    emit: oneOf('emit', values.emit, ['matched', 'all'] as const, 'matched'),
    format: oneOf('format', values.format, ['json', 'text'] as const, 'json'),
    inputFormat: oneOf<InputFormat>('input-format', values['input-format'], ['auto', 'raw', 'json'], 'auto'),
    fields,
    maxLineBytes: positiveInt('max-line-bytes', values['max-line-bytes'], 1 << 20),
    batchSize: positiveInt('batch-size', values['batch-size'], 2048),
  };
  // Default: the available cores, but one thread on 2 cores or fewer, where workers measured slower
  // (the main thread's reading and writing need most of a core: README, Benchmarks).
  const cores = availableParallelism();
  const threads = positiveInt('threads', values.threads, cores > 2 ? cores : 1);
  const cacheDir = values['no-cache'] ? null : (values['cache-dir'] ?? defaultCacheDir());
  if (options.input === '-' && (io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('no input: pass --input FILE, or pipe lines into stdin');
  const { kb, matcher } = await loadKbAndMatcher(
    values.kb ?? [DEFAULT_KB],
    {
      allowInvalid: values['allow-invalid-records'],
      matcher: {
        ignoreCase: !values['case-sensitive'],
        cacheDir,
      },
    },
    stderrReporter(io),
  );
  const enricher = new Enricher(kb, matcher, { fields: options.fields, format: options.inputFormat });
  // --http-port: the same /metrics (and lookup API) as the daemon, so a long scan can be watched.
  let http: Server | null = null;
  let metrics: LogsiftMetrics | null = null;
  if (values['http-port'] !== undefined) {
    const port = Number(values['http-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--http-port must be a port number (got "${values['http-port']}")`);
    // Loaded only when asked for: prom-client and the HTTP server cost a scan's start-up otherwise.
    const [{ createHttpServer, listen }, { LogsiftMetrics }] = await Promise.all([import('../http/index.js'), import('../telemetry/index.js')]);
    metrics = new LogsiftMetrics({ signatureLabel: true });
    metrics.setKnowledgeBase(kb, matcher.info);
    http = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true }), enricher: () => enricher });
    const addr = await listen(http, port, '127.0.0.1');
    io.err(`logsift: serving /metrics on http://127.0.0.1:${addr.port}/metrics\n`);
  }
  // --threads N: worker threads load the KB and databases from the cache this process just wrote
  // (so not with --no-cache), and start only once the input is larger than a few batches.
  let pool: ScanPool | undefined;
  if (threads > 1 && cacheDir !== null) {
    const kbPaths = values.kb ?? [DEFAULT_KB];
    pool = {
      startAfterBatches: 4,
      start: async () => {
        const { startScanPool } = await import('./scan-pool.js');
        const unicodeAtStart = matcher.unicodeComplete;
        const p = await startScanPool(threads, {
          kbPaths,
          allowInvalid: values['allow-invalid-records'] === true,
          ignoreCase: !values['case-sensitive'],
          cacheDir,
          fields: [...options.fields],
          inputFormat: options.inputFormat,
          emit: options.emit,
          format: options.format,
          fileName: options.input === '-' ? '<stdin>' : options.input,
          kbVersion: kb.version,
        });
        if (!unicodeAtStart) void matcher.unicodeReady.then(() => matcher.unicodeComplete && p.attachUnicode(matcher.exportUnicode()));
        return p;
      },
    };
  }
  let summary;
  try {
    summary = await runScan(options, enricher, io.stdout, io.err, io.stdin, metrics ? { onBatch: (b) => metrics.scanBatch(b) } : {}, pool);
  } finally {
    if (http) await new Promise((resolve) => http.close(resolve));
  }
  const rate = summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : 0;
  const share = summary.lines > 0 ? ((100 * summary.matched) / summary.lines).toFixed(1) : '0.0';
  io.err(
    `logsift: ${summary.lines} lines in ${summary.seconds.toFixed(2)} s (${rate} lines/s), ` +
      `${summary.matched} matched (${share}%), ${summary.errors} skipped; kb ${kb.version} (${kb.size} records)\n`,
  );
  if (summary.top.length > 0) {
    io.err('logsift: top signatures:\n');
    for (const t of summary.top) io.err(`  ${String(t.count).padStart(7)}  ${t.id}\n`);
  }
  return 0;
}

export async function main(argv: string[], io: Io = stdio()): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    switch (command) {
      case 'scan':
        return await scanCommand(argv.slice(1), io);
      case 'kb': {
        const { kbCheck, kbImport } = await import('./kb.js');
        if (sub === 'check') {
          const { values } = parseArgs({ args: rest, options: { kb: { type: 'string', multiple: true }, 'case-sensitive': { type: 'boolean', default: false } } });
          return await kbCheck(values.kb ?? [DEFAULT_KB], !values['case-sensitive'], io);
        }
        if (sub === 'import') {
          const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
          if (positionals.length !== 1) throw new UsageError('logsift kb import FILE');
          return await kbImport(positionals[0]!, io);
        }
        throw new UsageError('logsift kb check|import');
      }
      case 'run': {
        const { runCommand } = await import('./run.js');
        return await runCommand(argv.slice(1), io);
      }
      case 'dlq': {
        const { dlqCommand } = await import('./dlq.js');
        return await dlqCommand(argv.slice(1), io);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`logsift: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    io.err(`${formatError(err)}\n`);
    return 1;
  }
}
