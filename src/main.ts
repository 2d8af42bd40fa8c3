/**
 * Composition root of the daemon: configuration → dependencies → start → signals.
 * SIGTERM/SIGINT: graceful stop within the grace period; a second signal exits at once.
 * SIGHUP: reload the knowledge base (the old one stays on failure).
 */
import type { Server } from 'node:http';

import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';

import { DEFAULT_KB, loadKbAndMatcher } from './cli/common.js';
import type { Config } from './config/index.js';
import { redact } from './config/index.js';
import { Enricher } from './enrich/index.js';
import { createHttpServer, listen } from './http/index.js';
import { Daemon, createKafka } from './kafka/index.js';
import type { Matcher } from './matcher/index.js';
import { LogsiftMetrics, createLogger } from './telemetry/index.js';

export interface RunningDaemon {
  daemon: Daemon;
  http: Server | null;
  httpPort: number | null;
  metrics: LogsiftMetrics;
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

async function buildEnricher(config: Config, logger: Logger): Promise<{ enricher: Enricher; matcher: Matcher }> {
  const paths = config.kb.paths.length > 0 ? config.kb.paths : [DEFAULT_KB];
  const { kb, matcher } = await loadKbAndMatcher(
    paths,
    {
      allowInvalid: config.kb.allowInvalid,
      matcher: { ignoreCase: config.kb.ignoreCase, ...(config.kb.cacheDir !== undefined ? { cacheDir: config.kb.cacheDir } : {}) },
    },
    {
      skipped: (p) => logger.warn({ code: p.code, file: p.file, line: p.line, field: p.field }, `skipped invalid record: ${p.message}`),
      build: (text, e) => logger.info({ event: e.type }, text),
    },
  );
  logger.info({ kb_version: kb.version, records: kb.size, classes: matcher.info.patterns, from_cache: matcher.info.fromCache, seconds: matcher.info.buildSeconds }, 'knowledge base loaded');
  return { enricher: new Enricher(kb, matcher, { fields: config.input.fields, format: config.input.format }), matcher };
}

export async function startDaemon(config: Config, logger: Logger = createLogger(config.log.level)): Promise<RunningDaemon> {
  logger.info({ config: redact(config) }, 'starting logsift run');
  const metrics = new LogsiftMetrics({ signatureLabel: config.metrics.signatureLabel });
  let current = await buildEnricher(config, logger);
  metrics.setKnowledgeBase(current.enricher.kb, current.matcher.info);
  metrics.kbReload(true);

  const daemon = new Daemon({
    kafka: createKafka(config.kafka, logger),
    config,
    logger,
    enricher: () => current.enricher,
    observer: metrics,
    tracer: trace.getTracer('logsift'),
  });
  metrics.state(daemon.readiness);

  let http: Server | null = null;
  let httpPort: number | null = null;
  if (config.http.enabled) {
    http = createHttpServer({ metrics, readiness: () => ({ ...daemon.readiness }), enricher: () => current.enricher });
    httpPort = (await listen(http, config.http.port, config.http.host)).port;
    logger.info({ port: httpPort }, 'serving /metrics, /healthz, /readyz, /v1/signatures, /v1/match');
  }

  await daemon.start();

  let reloading: Promise<boolean> | null = null;
  const reload = (): Promise<boolean> =>
    (reloading ??= (async () => {
      try {
        const next = await buildEnricher(config, logger);
        current = next;
        metrics.setKnowledgeBase(next.enricher.kb, next.matcher.info);
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
