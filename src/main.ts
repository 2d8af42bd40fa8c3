/**
 * Composition root of the daemon: configuration → dependencies → start → signals.
 *
 * Lifecycle rule (every path ends; see README "Daemon lifecycle"):
 * - A bad configuration or KB, or an HTTP port that cannot be bound: exit 1 at once.
 * - Kafka: /healthz is 200 and /readyz 503 with the reason while logsift retries (backoff) to connect
 *   the producer and start the consumer group; if that has not succeeded within `kafka.startTimeout`
 *   it exits 3. After the first start it never exits on its own: outages show as not ready.
 * - SIGTERM/SIGINT (also while starting): stop fetching, finish and commit in-flight chunks, leave the
 *   group, exit 0; past `shutdownGracePeriod`, or on a second signal, exit 4 at once.
 * - Exactly-once delivery fenced by another instance: stop and exit 5.
 * - SIGHUP, or a change under kb.paths (kb.watch): reload the knowledge base (the old one stays on failure).
 * This module only resolves exit codes; the CLI shell ends the process with them.
 */
import type { Server } from 'node:http';
import { availableParallelism, totalmem } from 'node:os';

import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';

import { AlertForwarder } from './alerts/index.js';
import { DEFAULT_KB, loadKbAndMatcher, mineUnmatched } from './app/index.js';
import type { DropReason } from './app/index.js';
import { EXIT_CODES } from './cli/exit-codes.js';
import { enrichWorkers, redact, workerYoungGenerationMb, type Config } from './config/index.js';
import { Enricher, textFormat, type EnrichOptions } from './enrich/index.js';
import { ErrorCodes } from './errors.js';
import { createHttpServer, listen, type HttpRoutes } from './http/index.js';
import { Daemon, EnrichPool, InlineProcessor, createKafka, type ChunkProcessor } from './kafka/index.js';
import { checkRedosAsync } from './kb/index.js';
import { kbSource } from './kb/snapshot.js';
import { KbWatcher, serialized } from './kb/watch.js';
import { defaultPrebuiltDirs, exactEngineRuns, resolveCacheDir, type Matcher } from './matcher/index.js';
import { UnmatchedMiner, errorTextSelector, type ErrorLineOptions, type MinedText } from './suggest/index.js';
import { LogsiftMetrics, ShadowScanner, createLogger } from './telemetry/index.js';

export interface RunningDaemon {
  daemon: Daemon;
  /** The listener of /metrics, /healthz, /readyz (and the lookup API unless it has its own). */
  http: Server | null;
  httpPort: number | null;
  /** The lookup API's own listener, when `http.api.port` is set. */
  apiHttp: Server | null;
  apiPort: number | null;
  metrics: LogsiftMetrics;
  /** Connects to Kafka, retrying with backoff; resolves with how it ended (see the lifecycle rule). */
  start(abort?: AbortSignal): Promise<'started' | 'timeout' | 'aborted'>;
  reload(): Promise<boolean>;
  /** Stops the daemon and closes the listeners. */
  stop(): Promise<void>;
}

const livePaths = (config: Config): string[] => (config.kb.paths.length > 0 ? config.kb.paths : [DEFAULT_KB]);

function enrichOptions(config: Config): EnrichOptions {
  return { fields: [...config.input.fields], format: textFormat(config.input.format), minStrength: config.match.minStrength, includeLog: config.output.includeLog };
}

interface Loaded {
  enricher: Enricher;
  matcher: Matcher;
  dropped: Record<DropReason, number>;
}

/**
 * Loads a KB generation on the event loop. `prewarm` boots the exact engine's threads now; the live KB
 * leaves that to `buildProcessor`, which knows whether this thread will enrich the stream (with
 * enrichment workers, the event loop's matcher serves only the lookup API, and its two idle threads
 * would hold two V8 heaps for nothing).
 */
async function buildEnricher(config: Config, logger: Logger, paths: readonly string[], prewarm: boolean): Promise<Loaded> {
  const { kb, matcher, dropped } = await loadKbAndMatcher(
    paths,
    {
      allowInvalid: config.kb.allowInvalid,
      matcher: { ignoreCase: config.kb.ignoreCase, exactBudgetMs: config.match.exactBudget, prewarm, ...(config.kb.cacheDir !== undefined ? { cacheDir: config.kb.cacheDir } : {}) },
      filter: { include: config.kb.include, exclude: config.kb.exclude },
      lint: config.kb.lint,
    },
    {
      skipped: (p) => logger.warn({ code: p.code, file: p.file, line: p.line, field: p.field }, `skipped invalid record: ${p.message}`),
      build: (text, e) => logger.info({ event: e.type }, text),
      dropped: (reason, records) => logger.warn({ reason, count: records.length, ids: records.map((r) => r.id), why: records.map((r) => r.why) }, `dropped ${records.length} knowledge-base record(s): ${reason}`),
    },
  );
  logger.info({ kb_version: kb.version, records: kb.size, dropped, classes: matcher.info.patterns, from_cache: matcher.info.fromCache, seconds: matcher.info.buildSeconds, paths }, 'knowledge base loaded');
  void logRedos(kb.version, matcher, logger);
  return { enricher: new Enricher(kb, matcher, enrichOptions(config)), matcher, dropped };
}

/** A KB generation's chunk processor, how to retire it, and how many threads enrich with it. */
interface Processor {
  processor: ChunkProcessor;
  retire: () => Promise<void>;
  threads: number;
}

/** A KB generation's chunk processor: enrichment workers, or the event loop (match.workers: 0, the shadow KB, no cache). */
async function buildProcessor(config: Config, loaded: Loaded, logger: Logger): Promise<Processor> {
  const workers = enrichWorkers(config, availableParallelism());
  const cacheDir = resolveCacheDir(config.kb.cacheDir);
  const inline = (why: string | null) => {
    if (why) logger.info({ reason: why }, 'enriching on the event loop');
    loaded.matcher.exact.prewarm();
    return { processor: new InlineProcessor(loaded.enricher, errorTextSelector(miningOptions(config))), retire: () => Promise.resolve(), threads: 1 };
  };
  if (workers === 0) return inline(null);
  // The shadow comparison reads each message's full live result, which stays on the thread that made it.
  if (config.kb.shadow.length > 0) return inline('kb.shadow compares full results on this thread');
  if (cacheDir === null) return inline('kb.cacheDir is null: workers load the databases from the cache');
  const { matcher, enricher } = loaded;
  // The memory the process may use: its cgroup's limit (Node reports 2^64 without one), else the host's.
  const constrained = process.constrainedMemory();
  const youngMb = workerYoungGenerationMb(config, constrained > 0 && constrained < totalmem() ? constrained : totalmem());
  const pool = await EnrichPool.start(enricher.kb, {
    workers,
    ...(youngMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: youngMb } } : {}),
    init: {
      kb: kbSource(enricher.kb),
      matcher: { ignoreCase: config.kb.ignoreCase, cacheDir, exactBudgetMs: config.match.exactBudget, prebuiltDirs: defaultPrebuiltDirs() },
      enrich: enrichOptions(config),
      mining: miningOptions(config),
    },
    onReplaced: (reason) => logger.error({ code: ErrorCodes.SCAN_FAILED, reason }, 'an enrichment worker died and was replaced; its chunks are retried'),
  });
  if (!matcher.unicodeComplete) {
    // A reload may have retired this pool and closed its matcher before the Unicode database is ready.
    void matcher.unicodeReady
      .then(() => {
        if (!pool.closed && matcher.unicodeComplete) pool.attachUnicode(matcher.exportUnicode());
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not hand the Unicode database to the enrichment workers; the exact engine serves those messages'));
  }
  // The young generation each worker runs with: the setting's, or Node's own size where that is smaller.
  logger.info({ workers, kb_version: enricher.kb.version, young_generation_mb: pool.resourceLimits?.maxYoungGenerationSizeMb ?? null }, 'enrichment workers ready');
  return { processor: pool, retire: () => pool.retire(), threads: workers };
}

function unmatchedMiner(config: Config): UnmatchedMiner | null {
  const mining = miningOptions(config);
  if (mining === null) return null;
  const s = config.suggest;
  return new UnmatchedMiner({ ...mining, maxClusters: s.maxClusters, similarity: s.similarity, fields: config.input.fields, format: textFormat(config.input.format) });
}

/** Which unmatched texts are mined (the selection runs where a chunk is enriched); null: no mining. */
function miningOptions(config: Config): ErrorLineOptions | null {
  const s = config.suggest;
  return s.enabled ? { levels: s.levels, keywords: s.keywords } : null;
}

/**
 * ReDoS lint at load, once per KB version, in recheck's worker thread (the daemon keeps running): one
 * warning listing the exact-engine records prone to super-linear backtracking, with attack strings.
 */
async function logRedos(kbVersion: string, matcher: Matcher, logger: Logger): Promise<void> {
  const records: { id: string; complexity?: string; attack?: string }[] = [];
  try {
    for (const p of matcher.plan.filter(exactEngineRuns)) {
      const r = await checkRedosAsync({ source: p.js!, flags: p.jsFlags });
      if (r.status === 'vulnerable') records.push({ id: p.id, ...(r.complexity ? { complexity: r.complexity } : {}), ...(r.attack ? { attack: r.attack } : {}) });
    }
  } catch (err) {
    logger.warn({ err, code: 'LOGSIFT_REDOS' }, 'ReDoS check failed; exact-engine records still run under the per-message budget');
    return;
  }
  if (records.length > 0) {
    logger.warn({ code: 'LOGSIFT_REDOS', kb_version: kbVersion, records, budget_ms: matcher.exact.budgetMs }, 'exact-engine records prone to super-linear backtracking; they run under the per-message budget');
  }
}

/** The daemon's metrics, with the resource labels of `metrics.labels` and their cap. */
export function daemonMetrics(config: Config, logger: Logger): LogsiftMetrics {
  return new LogsiftMetrics({
    signatureLabel: config.metrics.signatureLabel,
    resourceLabels: config.metrics.labels,
    labelValueLimit: config.metrics.labelValueLimit,
    onLabelOverflow: (label, limit) => logger.warn({ code: 'LOGSIFT_METRIC_LABEL_OVERFLOW', label, limit }, `metric label ${label} reached ${limit} distinct values; further new values are counted as "other"`),
  });
}

export interface StartOptions {
  logger?: Logger;
  metrics?: LogsiftMetrics;
}

function delay(ms: number, abort?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      abort?.removeEventListener('abort', done);
      resolve();
    }
    abort?.addEventListener('abort', done, { once: true });
  });
}

async function closeServer(server: Server | null): Promise<void> {
  if (!server) return;
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Loads the KB, opens the HTTP listeners and builds the daemon; Kafka is started by `start()`. */
export async function startDaemon(config: Config, options: StartOptions = {}): Promise<RunningDaemon> {
  const logger = options.logger ?? createLogger(config.log.level);
  logger.info({ config: redact(config) }, 'starting logsift run');
  const metrics = options.metrics ?? daemonMetrics(config, logger);
  const loaded = await buildEnricher(config, logger, livePaths(config), false);
  let current = { ...loaded, ...(await buildProcessor(config, loaded, logger)) };
  metrics.setKnowledgeBase(current.enricher.kb, current.matcher.info);
  metrics.enrichment(current.threads);
  metrics.kbDropped(current.dropped);
  metrics.kbReload(true);
  const miner = unmatchedMiner(config);
  let shadow = config.kb.shadow.length > 0 ? await buildEnricher(config, logger, config.kb.shadow, true) : null;
  const shadowScanner = shadow ? new ShadowScanner({ shadow: () => shadow!.enricher, registry: metrics.registry, logger, sample: config.kb.shadowSample }) : null;

  const daemon = new Daemon({
    kafka: createKafka(config.kafka, logger),
    config,
    logger,
    processor: () => current.processor,
    observer: metrics,
    tracer: trace.getTracer('logsift'),
    ...(miner
      ? {
          onUnmatched: (seen: number, texts: readonly MinedText[]) =>
            mineUnmatched(miner, seen, texts, (n, templates) => metrics.unmatchedMined(n, templates), (err) => logger.warn({ err }, 'template mining failed for a chunk; skipped')),
        }
      : {}),
    ...(shadowScanner ? { afterChunk: (enriched) => shadowScanner.schedule(enriched.map((e) => ({ text: e.message.value!.toString('utf8'), live: e.result, where: `${e.message.topic}/${e.message.partition}@${e.message.offset}` }))) } : {}),
  });
  metrics.state(daemon.readiness);
  /** Why /readyz says 503 beyond its components: starting (with the last error) or shutting down. */
  let phase: string | null = 'starting: connecting to Kafka';

  const forwarder = config.alerts.forwardUrl
    ? new AlertForwarder(
        { url: config.alerts.forwardUrl, timeoutMs: config.alerts.forwardTimeout, retries: config.alerts.forwardRetries, queueSize: config.alerts.forwardQueueSize },
        {
          result: (result, error) => {
            metrics.alertForwards.inc({ result });
            if (result !== 'delivered') logger.warn({ code: 'LOGSIFT_ALERT_FORWARD', result, error }, 'alert payload not forwarded');
          },
        },
      )
    : null;
  const serve = async (routes: HttpRoutes, port: number, host: string): Promise<{ server: Server; port: number }> => {
    const server = createHttpServer({
      metrics,
      routes,
      readiness: () => ({ ...daemon.readiness }),
      notReadyReason: () => phase,
      enricher: () => current.enricher,
      alerts: { textLabels: config.alerts.textLabels, forwarder },
      ...(miner ? { unmatched: (n: number) => miner.view(n) } : {}),
      onError: (err) => {
        logger.error({ err, code: 'LOGSIFT_UNEXPECTED' }, 'HTTP handler failed (a bug in logsift: please report it); answered 500');
      },
    });
    const addr = await listen(server, port, host);
    return { server, port: addr.port };
  };
  let http: Server | null = null;
  let httpPort: number | null = null;
  let apiHttp: Server | null = null;
  let apiPort: number | null = null;
  try {
    if (config.http.enabled) {
      const api = config.http.api;
      const separate = api.enabled && api.port !== null;
      ({ server: http, port: httpPort } = await serve(api.enabled && !separate ? 'all' : 'ops', config.http.port, config.http.host));
      logger.info({ port: httpPort, host: config.http.host }, `serving /metrics, /healthz, /readyz${api.enabled && !separate ? ', /v1/signatures, /v1/match, /v1/alertmanager, /v1/unmatched' : ''}`);
      if (separate) {
        ({ server: apiHttp, port: apiPort } = await serve('api', api.port!, api.host));
        logger.info({ apiPort, host: api.host }, 'lookup API (/v1/signatures, /v1/match) on its own listener');
      }
    }
  } catch (err) {
    await Promise.all([closeServer(http), closeServer(apiHttp)]);
    throw err;
  }

  const start = async (abort?: AbortSignal): Promise<'started' | 'timeout' | 'aborted'> => {
    const timeoutMs = config.kafka.startTimeout;
    const deadline = Date.now() + timeoutMs;
    let backoff = 500;
    for (let attempt = 1; ; attempt++) {
      if (abort?.aborted) return 'aborted';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      // kafkajs retries connections on its own and may never give up (the idempotent producer):
      // the deadline and the abort signal bound every attempt.
      const bound = new AbortController();
      const onAbort = (): void => bound.abort();
      abort?.addEventListener('abort', onAbort, { once: true });
      const outcome = await Promise.race([
        daemon.start().then(
          () => 'started' as const,
          (err: unknown) => err,
        ),
        delay(left, bound.signal).then(() => (abort?.aborted ? ('aborted' as const) : ('timeout' as const))),
      ]);
      // Cancels the deadline timer when the attempt settled first.
      bound.abort();
      abort?.removeEventListener('abort', onAbort);
      if (outcome === 'started') {
        phase = null;
        logger.info({ attempt }, 'connected to Kafka');
        return 'started';
      }
      if (outcome === 'timeout' || outcome === 'aborted') return outcome;
      const err = outcome as Error;
      phase = `starting: Kafka start attempt ${attempt} failed: ${err.message}`;
      logger.warn({ err, code: 'LOGSIFT_KAFKA', attempt, retry_ms: backoff, deadline_ms: Math.max(0, deadline - Date.now()) }, 'Kafka start failed; retrying');
      await delay(Math.min(backoff, Math.max(0, deadline - Date.now())), abort);
      backoff = Math.min(backoff * 2, 10_000);
    }
  };

  // A change during a reload may have been read too late: serialized() loads once more after it.
  const reload = serialized(async (): Promise<boolean> => {
    try {
      const nextLoaded = await buildEnricher(config, logger, livePaths(config), false);
      const next = { ...nextLoaded, ...(await buildProcessor(config, nextLoaded, logger).catch((err: unknown) => {
        nextLoaded.matcher.close();
        throw err;
      })) };
      // The shadow KB is refused on its own (logged); the live one still swaps.
      const nextShadow = shadow
        ? await buildEnricher(config, logger, config.kb.shadow, true).catch((err: unknown) => {
            logger.error({ err, code: (err as { code?: string }).code }, 'shadow knowledge-base reload failed; keeping the loaded one');
            return shadow;
          })
        : null;
      const previous = current;
      current = next;
      // Inline processing is synchronous per chunk, so nothing runs on the old matcher any more; the
      // old workers finish the chunks they hold, then close.
      previous.matcher.close();
      void previous.retire();
      metrics.setKnowledgeBase(next.enricher.kb, next.matcher.info);
      metrics.enrichment(next.threads);
      metrics.kbDropped(next.dropped);
      metrics.kbReload(true);
      if (nextShadow && nextShadow !== shadow) {
        // The shadow comparison is synchronous and reads the current shadow KB each time.
        shadow?.matcher.close();
        shadow = nextShadow;
        shadowScanner?.setKnowledgeBase(nextShadow.enricher.kb.version);
      }
      return true;
    } catch (err) {
      metrics.kbReload(false);
      logger.error({ err, code: (err as { code?: string }).code }, 'knowledge-base reload failed; keeping the loaded one');
      return false;
    }
  });
  const watched = [...livePaths(config), ...config.kb.shadow];
  const watcher = config.kb.watch ? await KbWatcher.start({ paths: watched, debounceMs: config.kb.watchDebounce, onChange: reload }) : null;
  if (watcher) logger.info({ paths: watched, debounce_ms: config.kb.watchDebounce }, 'watching the knowledge base for changes');

  const stop = async (): Promise<void> => {
    phase = 'shutting down';
    watcher?.close();
    try {
      await daemon.stop();
      await current.retire();
      await forwarder?.close(2_000);
    } finally {
      await Promise.all([closeServer(http), closeServer(apiHttp)]);
    }
  };
  return { daemon, http, httpPort, apiHttp, apiPort, metrics, start, reload, stop };
}

/**
 * Takes the signals at once, while `started` (startDaemon) still loads the KB, starts the workers and
 * the listeners; then starts Kafka and resolves with the exit code once the process should end (the
 * lifecycle rule above). Rejects only when `started` does, before any signal.
 *
 * Before the daemon has started nothing is consumed or committed, so SIGTERM or SIGINT ends it at once
 * (exit 0; whatever the start still brings up is stopped when it arrives), and a SIGHUP is kept for a
 * reload once it runs. Without handlers in that window Node's default action killed the process (no
 * exit code, no log line), also after /readyz had answered. SIGHUP reloads the KB at any time.
 */
export function superviseDaemon(started: Promise<RunningDaemon>, config: Config, logger: Logger): Promise<number> {
  return new Promise((resolve, reject) => {
    const starting = new AbortController();
    let running: RunningDaemon | null = null;
    let hupWhileStarting = false;
    let stopping = false;
    let settled = false;
    const release = (): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
    };
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      release();
      resolve(code);
    };
    const onStop = (signal: string): void => {
      if (!running) {
        logger.info({ signal, exit_code: EXIT_CODES.ok }, 'shutting down before the daemon started: nothing consumed yet');
        finish(EXIT_CODES.ok);
        return;
      }
      if (stopping) {
        logger.warn({ signal, exit_code: EXIT_CODES.shutdownForced }, 'second signal: exiting now; uncommitted work is re-delivered on restart');
        finish(EXIT_CODES.shutdownForced);
        return;
      }
      stopping = true;
      starting.abort();
      logger.info({ signal, grace_ms: config.shutdownGracePeriod }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ grace_ms: config.shutdownGracePeriod, exit_code: EXIT_CODES.shutdownForced }, 'shutdown grace period exceeded; exiting; uncommitted work is re-delivered on restart');
        finish(EXIT_CODES.shutdownForced);
      }, config.shutdownGracePeriod);
      running.stop().then(
        () => {
          clearTimeout(timer);
          logger.info('stopped cleanly');
          finish(EXIT_CODES.ok);
        },
        (err: unknown) => {
          clearTimeout(timer);
          logger.error({ err }, 'error while stopping');
          finish(EXIT_CODES.failure);
        },
      );
    };
    const onTerm = (): void => onStop('SIGTERM');
    const onInt = (): void => onStop('SIGINT');
    const onHup = (): void => {
      if (!running) {
        hupWhileStarting = true;
        return;
      }
      logger.info('SIGHUP: reloading the knowledge base');
      void running.reload();
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);

    const supervise = (daemon: RunningDaemon): void => {
      /** Stops (best effort within the grace period) and ends with `code` whatever stopping does. */
      const stopWith = (code: number, what: string): void => {
        stopping = true;
        starting.abort();
        const timer = setTimeout(() => finish(code), config.shutdownGracePeriod);
        void daemon
          .stop()
          .catch((err: unknown) => logger.warn({ err }, `error while stopping after ${what}`))
          .finally(() => {
            clearTimeout(timer);
            finish(code);
          });
      };
      // Fenced (exactly-once): another instance owns the work; stop and exit so that the orchestrator
      // restarts this one as a fresh group member.
      void daemon.daemon.fatal.then(() => {
        if (stopping) return;
        logger.error({ code: 'LOGSIFT_FENCED', exit_code: EXIT_CODES.fenced }, 'fenced by another instance: stopping');
        stopWith(EXIT_CODES.fenced, 'being fenced');
      });
      void daemon.start(starting.signal).then((outcome) => {
        if (outcome !== 'timeout' || stopping) return;
        const message = `Kafka did not accept the producer and the consumer group within kafka.startTimeout (${config.kafka.startTimeout} ms); exiting with ${EXIT_CODES.startTimeout}`;
        logger.fatal({ code: 'LOGSIFT_KAFKA', brokers: config.kafka.brokers, exit_code: EXIT_CODES.startTimeout }, message);
        // Best effort within the grace period: the exit code says what happened either way.
        stopWith(EXIT_CODES.startTimeout, 'the start timeout');
      });
    };

    started.then(
      (daemon) => {
        if (settled) {
          // Stopped while starting: close what the start brought up (an in-process caller lives on).
          void daemon.stop().catch((err: unknown) => logger.warn({ err }, 'error while stopping a daemon that started after the stop'));
          return;
        }
        running = daemon;
        if (hupWhileStarting) {
          logger.info('SIGHUP during start: reloading the knowledge base');
          void daemon.reload();
        }
        supervise(daemon);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        release();
        reject(err as Error);
      },
    );
  });
}
