/**
 * `logsift` command line: scan | run | kb check | kb import | dlq replay.
 * Parses arguments, wires dependencies, maps errors to exit codes (0 ok, 1 failure, 2 usage).
 */
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { DEFAULT_MESSAGE_FIELDS, DEFAULT_MIN_STRENGTH, Enricher, type InputFormat } from '../enrich/index.js';
import { DEFAULT_EXACT_BUDGET_MS, defaultPrebuiltDirs, resolveCacheDir } from '../matcher/index.js';
import type { LogsiftMetrics } from '../telemetry/index.js';
import { DEFAULT_KB, UsageError, formatError, loadKbAndMatcher, stderrReporter, type Io } from './common.js';
import { commandHelp, version } from './help.js';
import type { LintCheck } from '../kb/lint.js';
import { kbSource } from '../kb/snapshot.js';
import { KB_LOAD_FLAGS, filterFromFlags, kbLoadOptions, shareFlag } from './kb-flags.js';
import { DEFAULT_BATCH_LINES, POOL_AFTER_LINES, runScan, type ScanPool } from './scan.js';

const HELP = `logsift — match log messages against a knowledge base of error signatures

Usage:
  logsift scan [--kb PATH]... [--input FILE|-] [--emit matched|all] [--format json|text]
               [--input-format auto|raw|json] [--fields a,b.c] [--case-sensitive]
               [--max-line-bytes N] [--cache-dir DIR | --no-cache] [--allow-invalid-records]
               [--http-port PORT] [--include TERM]... [--exclude TERM]...
               [--background FILE]... [--max-background-rate R] [--suggest [--top N]] [--exact-budget MS]
               [--threads N]
  logsift run  [--config FILE] [--brokers H:P,..] [--input TOPIC] [--output TOPIC] [--group ID]
               [--kb PATH]... [--delivery at-least-once|exactly-once] [--dlq TOPIC] [--unmatched TOPIC]
               [--include TERM]... [--exclude TERM]...
  logsift kb check  [--kb PATH]... [--include TERM]... [--exclude TERM]...
                    classify every record, show what the filter keeps; exit 1 on invalid or rejected
  logsift kb lint   [--kb PATH]... [--background FILE]... [--format text|json] [--max-background-rate R]
                    broad, self-miss, duplicate, shadowed, empty, rejected records; exit 1 on errors only
  logsift kb suggest --input FILE [--kb PATH]... [--top N] [--format text|json|records]
                    templates of the input's unmatched error lines, each with a draft record
  logsift kb import FILE               deadends.dev canons (JSON Lines) -> seed-format JSON Lines
  logsift kb compile [--kb PATH]... [--portable] [--cache-dir DIR]   compile into the cache
  logsift dlq replay --brokers H:P --dlq TOPIC --to TOPIC [--reason CODE] [--max N]
  logsift --version | <command> --help

Defaults: --kb ${DEFAULT_KB}, --input - (stdin), --emit matched, --format json,
--input-format auto, --fields ${DEFAULT_MESSAGE_FIELDS.join(',')}, --max-line-bytes 1048576,
--max-background-rate 0.01 (kb lint), --top 10.
Filter terms: domain:NAME, category:NAME, id:GLOB (* and ? wildcards); also $LOGSIFT_KB_INCLUDE,
$LOGSIFT_KB_EXCLUDE (comma-separated).
--exact-budget ${DEFAULT_EXACT_BUDGET_MS} (ms of exact-engine work per line; env LOGSIFT_MATCH_EXACT_BUDGET).
--threads: the available cores, 1 on 2 cores or fewer (workers start once the input exceeds ${POOL_AFTER_LINES} lines).
`;

function stdio(): Io {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), stdout: process.stdout, stdin: process.stdin, exit: (code) => process.exit(code) };
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

function strengthFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MIN_STRENGTH;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--min-strength must be a number from 0 to 1 (got "${value}")`);
  return n;
}

async function scanCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...KB_LOAD_FLAGS,
      input: { type: 'string', default: '-' },
      emit: { type: 'string' },
      format: { type: 'string' },
      'input-format': { type: 'string' },
      fields: { type: 'string' },
      'max-line-bytes': { type: 'string' },
      'batch-size': { type: 'string' },
      'http-port': { type: 'string' },
      'min-strength': { type: 'string' },
      background: { type: 'string', multiple: true },
      'max-background-rate': { type: 'string' },
      suggest: { type: 'boolean', default: false },
      top: { type: 'string' },
      'exact-budget': { type: 'string' },
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
    batchSize: positiveInt('batch-size', values['batch-size'], DEFAULT_BATCH_LINES),
  };
  if (options.input === '-' && (io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('no input: pass --input FILE, or pipe lines into stdin');
  if ((values['max-background-rate'] === undefined) !== (values.background === undefined)) throw new UsageError('--background FILE and --max-background-rate R go together');
  const lint = values['max-background-rate'] !== undefined ? { background: values.background ?? [], maxBackgroundRate: shareFlag('max-background-rate', values['max-background-rate'], 1) } : undefined;
  const top = positiveInt('top', values.top, 10);
  const loadOptions = kbLoadOptions(values, lint ? { lint } : {});
  const exactBudgetMs = positiveInt('exact-budget', values['exact-budget'] ?? process.env['LOGSIFT_MATCH_EXACT_BUDGET'], DEFAULT_EXACT_BUDGET_MS);
  const { kb, matcher } = await loadKbAndMatcher(values.kb ?? [DEFAULT_KB], { ...loadOptions, matcher: { ...loadOptions.matcher, exactBudgetMs } }, stderrReporter(io));
  // Loaded only when asked for (--suggest, --http-port): each costs a scan's start-up otherwise.
  const kbTools = values.suggest ? await import('./kb-tools.js') : null;
  const miner = kbTools ? kbTools.minerFor(options.fields, options.inputFormat) : null;
  const enrichOptions = { fields: options.fields, format: options.inputFormat, minStrength: strengthFlag(values['min-strength'] ?? process.env['LOGSIFT_MATCH_MIN_STRENGTH']) };
  const enricher = new Enricher(kb, matcher, enrichOptions);
  // --threads N: worker threads render batches with this KB and the databases this process cached
  // (so not with --no-cache); they start only once the input is larger than a few batches. Default:
  // the available cores, but one thread on 2 cores or fewer, where workers measured slower (the main
  // thread's reading and writing need most of a core: README, Benchmarks).
  const cores = availableParallelism();
  const threads = positiveInt('threads', values.threads, cores > 2 ? cores : 1);
  const cacheDir = resolveCacheDir(loadOptions.matcher.cacheDir);
  let pool: ScanPool | undefined;
  if (threads > 1 && cacheDir !== null) {
    pool = {
      startAfterBatches: Math.ceil(POOL_AFTER_LINES / options.batchSize),
      start: async (render) => {
        const { startScanPool } = await import('./scan-pool.js');
        const unicodeAtStart = matcher.unicodeComplete;
        const p = await startScanPool(threads, {
          kb: kbSource(kb),
          matcher: { ignoreCase: loadOptions.matcher.ignoreCase ?? true, cacheDir, exactBudgetMs, prebuiltDirs: defaultPrebuiltDirs(), prewarm: false },
          enrich: { ...enrichOptions, fields: [...enrichOptions.fields] },
          render,
        });
        if (!unicodeAtStart) void matcher.unicodeReady.then(() => matcher.unicodeComplete && p.attachUnicode(matcher.exportUnicode()));
        return p;
      },
    };
  }
  // --http-port: the same /metrics (and lookup API) as the daemon, so a long scan can be watched.
  let http: Server | null = null;
  let metrics: LogsiftMetrics | null = null;
  if (values['http-port'] !== undefined) {
    const port = Number(values['http-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--http-port must be a port number (got "${values['http-port']}")`);
    const [{ createHttpServer, listen }, { LogsiftMetrics }] = await Promise.all([import('../http/index.js'), import('../telemetry/index.js')]);
    metrics = new LogsiftMetrics({ signatureLabel: true });
    metrics.setKnowledgeBase(kb, matcher.info);
    http = createHttpServer({
      metrics,
      readiness: () => ({ kbLoaded: true }),
      enricher: () => enricher,
      onError: (err) => {
        io.err(`logsift: HTTP handler failed (a bug in logsift: please report it): ${(err as Error)?.stack ?? String(err)}\n`);
      },
    });
    const addr = await listen(http, port, '127.0.0.1');
    io.err(`logsift: serving /metrics on http://127.0.0.1:${addr.port}/metrics\n`);
  }
  let summary;
  try {
    summary = await runScan(options, enricher, io.stdout, io.err, io.stdin, {
      ...(metrics ? { onBatch: (b) => metrics.scanBatch(b) } : {}),
      ...(kbTools && miner ? { unmatched: kbTools.scanMining(miner) } : {}),
    }, pool);
  } finally {
    if (http) await new Promise((resolve) => http.close(resolve));
  }
  const rate = summary.seconds > 0 ? Math.round(summary.lines / summary.seconds) : 0;
  const share = summary.lines > 0 ? ((100 * summary.matched) / summary.lines).toFixed(1) : '0.0';
  io.err(
    `logsift: ${summary.lines} lines in ${summary.seconds.toFixed(2)} s (${rate} lines/s), ` +
      `${summary.matched} matched (${share}%), ${summary.weak} only weakly (below --min-strength ${enricher.minStrength}, or ambiguous), ${summary.errors} skipped; kb ${kb.version} (${kb.size} records)\n`,
  );
  if (summary.top.length > 0) {
    io.err('logsift: top signatures:\n');
    for (const t of summary.top) io.err(`  ${String(t.count).padStart(7)}  ${t.id}\n`);
  }
  if (!matcher.unicodeComplete) {
    // The process stays until the compile ends (a native compile cannot be cancelled): say why.
    io.err(
      cacheDir !== null
        ? 'logsift: the Unicode database (non-ASCII lines) is still compiling; it is cached when done and later runs start at once; interrupting now is safe\n'
        : 'logsift: the Unicode database (non-ASCII lines) is still compiling and, with --no-cache, will not be kept; interrupting now is safe\n',
    );
  }
  if (miner) {
    io.err(`logsift: ${miner.errorLines} unmatched error line(s), ${miner.templates} template(s); top ${Math.min(top, miner.templates)} with draft records:\n`);
    const { formatSuggestions } = await import('../suggest/index.js');
    io.err(formatSuggestions(miner.top(top)));
  }
  return 0;
}

/** Checks the composition root adds to `kb lint` (e.g. a ReDoS checker); empty by default. */
export const LINT_CHECKS: LintCheck[] = [];

export async function main(argv: string[], io: Io = stdio()): Promise<number> {
  const [command, sub, ...rest] = argv;
  const help = commandHelp(argv);
  if (help !== null) {
    io.out(help);
    return 0;
  }
  try {
    switch (command) {
      case 'scan':
        return await scanCommand(argv.slice(1), io);
      case 'kb': {
        const [{ kbCheck, kbCompile, kbImport }, { kbLint, kbSuggest }] = await Promise.all([import('./kb.js'), import('./kb-tools.js')]);
        if (sub === 'check') {
          const { values } = parseArgs({ args: rest, options: { kb: { type: 'string', multiple: true }, 'case-sensitive': { type: 'boolean', default: false }, include: { type: 'string', multiple: true }, exclude: { type: 'string', multiple: true } } });
          return await kbCheck(values.kb ?? [DEFAULT_KB], !values['case-sensitive'], io, filterFromFlags(values));
        }
        if (sub === 'lint') {
          const { values } = parseArgs({ args: rest, options: { ...KB_LOAD_FLAGS, background: { type: 'string', multiple: true }, format: { type: 'string' }, 'max-background-rate': { type: 'string' } } });
          return await kbLint(values, io, LINT_CHECKS);
        }
        if (sub === 'suggest') {
          const { values } = parseArgs({ args: rest, options: { ...KB_LOAD_FLAGS, input: { type: 'string' }, top: { type: 'string' }, format: { type: 'string' }, 'input-format': { type: 'string' }, fields: { type: 'string' } } });
          return await kbSuggest(values, io, positiveInt('top', values.top, 10));
        }
        if (sub === 'compile') {
          const { values } = parseArgs({
            args: rest,
            options: {
              kb: { type: 'string', multiple: true },
              'cache-dir': { type: 'string' },
              portable: { type: 'boolean', default: false },
              'case-sensitive': { type: 'boolean', default: false },
            },
          });
          return await kbCompile(values.kb ?? [DEFAULT_KB], { ignoreCase: !values['case-sensitive'], portable: values.portable, cacheDir: values['cache-dir'] }, io);
        }
        if (sub === 'import') {
          const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
          if (positionals.length !== 1) throw new UsageError('logsift kb import FILE');
          return await kbImport(positionals[0]!, io);
        }
        throw new UsageError('logsift kb check|lint|suggest|import|compile');
      }
      case 'run': {
        const { runCommand } = await import('./run.js');
        return await runCommand(argv.slice(1), io);
      }
      case 'dlq': {
        const { dlqCommand } = await import('./dlq.js');
        return await dlqCommand(argv.slice(1), io);
      }
      case '--version':
      case '-v':
        io.out(`logsift ${version()}\n`);
        return 0;
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
