/**
 * Composition root of the daemon: configuration → dependencies → start → signals.
 * SIGTERM/SIGINT: graceful stop within the grace period; a second signal exits at once.
 * SIGHUP: reload the knowledge base (the old one stays on failure).
 */
import type { Server } from 'node:http';

import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';

import { AlertForwarder } from './alerts/index.js';
import { DEFAULT_KB, loadKbAndMatcher, mineUnmatched } from './app/index.js';
import type { DropReason } from './app/index.js';
import type { Config } from './config/index.js';
import { redact } from './config/index.js';
import { Enricher, textFormat } from './enrich/index.js';
import { createHttpServer, listen } from './http/index.js';
import { Daemon, createKafka } from './kafka/index.js';
import { checkRedosAsync } from './kb/index.js';
import { exactEngineRuns, type Matcher } from './matcher/index.js';
import { UnmatchedMiner } from './suggest/index.js';
import { LogsiftMetrics, createLogger } from './telemetry/index.js';

export interface RunningDaemon {
  daemon: Daemon;
  http: Server | null;
  httpPort: number | null;
  metrics: LogsiftMetrics;
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

async function buildEnricher(config: Config, logger: Logger): Promise<{ enricher: Enricher; matcher: Matcher; dropped: Record<DropReason, number> }> {
  const paths = config.kb.paths.length > 0 ? config.kb.paths : [DEFAULT_KB];
  const { kb, matcher, dropped } = await loadKbAndMatcher(
    paths,
    {
      allowInvalid: config.kb.allowInvalid,
      matcher: { ignoreCase: config.kb.ignoreCase, exactBudgetMs: config.match.exactBudget, ...(config.kb.cacheDir !== undefined ? { cacheDir: config.kb.cacheDir } : {}) },
      filter: { include: config.kb.include, exclude: config.kb.exclude },
      lint: config.kb.lint,
    },
    {
      skipped: (p) => logger.warn({ code: p.code, file: p.file, line: p.line, field: p.field }, `skipped invalid record: ${p.message}`),
      build: (text, e) => logger.info({ event: e.type }, text),
      dropped: (reason, records) => logger.warn({ reason, count: records.length, ids: records.map((r) => r.id), why: records.map((r) => r.why) }, `dropped ${records.length} knowledge-base record(s): ${reason}`),
    },
  );
  logger.info({ kb_version: kb.version, records: kb.size, dropped, classes: matcher.info.patterns, from_cache: matcher.info.fromCache, seconds: matcher.info.buildSeconds }, 'knowledge base loaded');
  void logRedos(kb.version, matcher, logger);
  return { enricher: new Enricher(kb, matcher, { fields: config.input.fields, format: textFormat(config.input.format), minStrength: config.match.minStrength }), matcher, dropped };
}

function unmatchedMiner(config: Config): UnmatchedMiner | null {
  const s = config.suggest;
  if (!s.enabled) return null;
  return new UnmatchedMiner({ levels: s.levels, keywords: s.keywords, maxClusters: s.maxClusters, similarity: s.similarity, fields: config.input.fields, format: textFormat(config.input.format) });
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

export async function startDaemon(config: Config, logger: Logger = createLogger(config.log.level)): Promise<RunningDaemon> {
  logger.info({ config: redact(config) }, 'starting logsift run');
  const metrics = new LogsiftMetrics({
    signatureLabel: config.metrics.signatureLabel,
    resourceLabels: config.metrics.labels,
    labelValueLimit: config.metrics.labelValueLimit,
    onLabelOverflow: (label, limit) => logger.warn({ code: 'LOGSIFT_METRIC_LABEL_OVERFLOW', label, limit }, `metric label ${label} reached ${limit} distinct values; further new values are counted as "other"`),
  });
  let current = await buildEnricher(config, logger);
  metrics.setKnowledgeBase(current.enricher.kb, current.matcher.info);
  metrics.kbDropped(current.dropped);
  metrics.kbReload(true);
  const miner = unmatchedMiner(config);

  const daemon = new Daemon({
    kafka: createKafka(config.kafka, logger),
    config,
    logger,
    enricher: () => current.enricher,
    observer: metrics,
    tracer: trace.getTracer('logsift'),
    ...(miner
      ? {
          onUnmatched: (raws: readonly string[]) =>
            mineUnmatched(miner, raws, (n, templates) => metrics.unmatchedMined(n, templates), (err) => logger.warn({ err }, 'template mining failed for a chunk; skipped')),
        }
      : {}),
  });
  metrics.state(daemon.readiness);

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
  let http: Server | null = null;
  let httpPort: number | null = null;
  if (config.http.enabled) {
    http = createHttpServer({
      metrics,
      readiness: () => ({ ...daemon.readiness }),
      enricher: () => current.enricher,
      alerts: { textLabels: config.alerts.textLabels, forwarder },
      ...(miner ? { unmatched: (n: number) => miner.view(n) } : {}),
    });
    httpPort = (await listen(http, config.http.port, config.http.host)).port;
    logger.info({ port: httpPort }, 'serving /metrics, /healthz, /readyz, /v1/signatures, /v1/match, /v1/unmatched');
  }

  await daemon.start();

  let reloading: Promise<boolean> | null = null;
  const reload = (): Promise<boolean> =>
    (reloading ??= (async () => {
      try {
        const next = await buildEnricher(config, logger);
        const previous = current;
        current = next;
        // Processing is synchronous per chunk, so nothing runs on the old matcher any more.
        previous.matcher.close();
        metrics.setKnowledgeBase(next.enricher.kb, next.matcher.info);
        metrics.kbDropped(next.dropped);
        metrics.kbReload(true);
        return true;
      } catch (err) {
        metrics.kbReload(false);
        logger.error({ err, code: (err as { code?: string }).code }, 'knowledge-base reload failed; keeping the loaded one');
        return false;
      } finally {
        reloading = null;
      }
    })());

  const stop = async (): Promise<void> => {
    await daemon.stop();
    await forwarder?.close(2_000);
    if (http) await new Promise<void>((resolve) => http!.close(() => resolve()));
  };
  return { daemon, http, httpPort, metrics, reload, stop };
}

/** Exit code of an instance fenced by another one (exactly-once delivery). */
export const EXIT_FENCED = 3;

/** Installs signal handlers for a running daemon; resolves with the exit code. */
export function handleSignals(running: RunningDaemon, config: Config, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onStop = (signal: string, code = 0): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now; uncommitted work is re-delivered on restart');
        resolve(code || 1);
        return;
      }
      stopping = true;
      logger.info({ signal, grace_ms: config.shutdownGracePeriod }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ grace_ms: config.shutdownGracePeriod }, 'shutdown grace period exceeded; exiting; uncommitted work is re-delivered on restart');
        resolve(code || 1);
      }, config.shutdownGracePeriod);
      running.stop().then(
        () => {
          clearTimeout(timer);
          logger.info('stopped cleanly');
          resolve(code);
        },
        (err: unknown) => {
          clearTimeout(timer);
          logger.error({ err }, 'error while stopping');
          resolve(code || 1);
        },
      );
    };
    // Fenced (exactly-once): another instance owns the work; stop and exit 3 so that the
    // orchestrator restarts this one as a fresh group member.
    void running.daemon.fatal.then(() => onStop('fenced', EXIT_FENCED));
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading the knowledge base');
      void running.reload();
    });
  });
}
