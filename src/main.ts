/**
 * Composition root of the daemon: configuration → dependencies → start → signals.
 * SIGTERM/SIGINT: graceful stop within the grace period; a second signal exits at once.
 * SIGHUP, or a change under kb.paths (kb.watch): reload the knowledge base (the old one stays on failure).
 */
import type { Server } from 'node:http';

import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';

import { AlertForwarder } from './alerts/index.js';
import { DEFAULT_KB, loadKbAndMatcher } from './cli/common.js';
import type { Config } from './config/index.js';
import { redact } from './config/index.js';
import { Enricher } from './enrich/index.js';
import { createHttpServer, listen } from './http/index.js';
import { Daemon, createKafka } from './kafka/index.js';
import { KbWatcher, serialized } from './kb/watch.js';
import type { Matcher } from './matcher/index.js';
import { LogsiftMetrics, ShadowScanner, createLogger } from './telemetry/index.js';

export interface RunningDaemon {
  daemon: Daemon;
  http: Server | null;
  httpPort: number | null;
  metrics: LogsiftMetrics;
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

const livePaths = (config: Config): string[] => (config.kb.paths.length > 0 ? config.kb.paths : [DEFAULT_KB]);

async function buildEnricher(config: Config, logger: Logger, paths = livePaths(config)): Promise<{ enricher: Enricher; matcher: Matcher }> {
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
  logger.info({ kb_version: kb.version, records: kb.size, classes: matcher.info.patterns, from_cache: matcher.info.fromCache, seconds: matcher.info.buildSeconds, paths }, 'knowledge base loaded');
  return { enricher: new Enricher(kb, matcher, { fields: config.input.fields, format: config.input.format, minStrength: config.match.minStrength }), matcher };
}

export async function startDaemon(config: Config, logger: Logger = createLogger(config.log.level)): Promise<RunningDaemon> {
  logger.info({ config: redact(config) }, 'starting logsift run');
  const metrics = new LogsiftMetrics({ signatureLabel: config.metrics.signatureLabel });
  let current = await buildEnricher(config, logger);
  metrics.setKnowledgeBase(current.enricher.kb, current.matcher.info);
  metrics.kbReload(true);
  let shadow = config.kb.shadow.length > 0 ? await buildEnricher(config, logger, config.kb.shadow) : null;
  const shadowScanner = shadow ? new ShadowScanner({ shadow: () => shadow!.enricher, registry: metrics.registry, logger, sample: config.kb.shadowSample }) : null;

  const daemon = new Daemon({
    kafka: createKafka(config.kafka, logger),
    config,
    logger,
    enricher: () => current.enricher,
    observer: metrics,
    ...(shadowScanner ? { afterChunk: (enriched) => shadowScanner.schedule(enriched.map((e) => ({ text: e.message.value!.toString('utf8'), live: e.result, where: `${e.message.topic}/${e.message.partition}@${e.message.offset}` }))) } : {}),
    tracer: trace.getTracer('logsift'),
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
    http = createHttpServer({ metrics, readiness: () => ({ ...daemon.readiness }), enricher: () => current.enricher, alerts: { textLabels: config.alerts.textLabels, forwarder } });
    httpPort = (await listen(http, config.http.port, config.http.host)).port;
    logger.info({ port: httpPort }, 'serving /metrics, /healthz, /readyz, /v1/signatures, /v1/match');
  }

  await daemon.start();

  // A change during a reload may have been read too late: serialized() loads once more after it.
  const reload = serialized(async (): Promise<boolean> => {
    try {
      const next = await buildEnricher(config, logger);
      // The shadow KB is refused on its own (logged); the live one still swaps.
      const nextShadow = shadow
        ? await buildEnricher(config, logger, config.kb.shadow).catch((err: unknown) => {
            logger.error({ err, code: (err as { code?: string }).code }, 'shadow knowledge-base reload failed; keeping the loaded one');
            return shadow;
          })
        : null;
      current = next;
      metrics.setKnowledgeBase(next.enricher.kb, next.matcher.info);
      metrics.kbReload(true);
      if (nextShadow) {
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
  const watcher = config.kb.watch ? await KbWatcher.start({ paths: [...livePaths(config), ...config.kb.shadow], debounceMs: config.kb.watchDebounce, onChange: reload }) : null;
  if (watcher) logger.info({ paths: [...livePaths(config), ...config.kb.shadow], debounce_ms: config.kb.watchDebounce }, 'watching the knowledge base for changes');

  const stop = async (): Promise<void> => {
    watcher?.close();
    await daemon.stop();
    await forwarder?.close(2_000);
    if (http) await new Promise<void>((resolve) => http!.close(() => resolve()));
  };
  return { daemon, http, httpPort, metrics, reload, stop };
}

/** Installs signal handlers for a running daemon; resolves with the exit code. */
export function handleSignals(running: RunningDaemon, config: Config, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onStop = (signal: string): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now; uncommitted work is re-delivered on restart');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal, grace_ms: config.shutdownGracePeriod }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ grace_ms: config.shutdownGracePeriod }, 'shutdown grace period exceeded; exiting; uncommitted work is re-delivered on restart');
        resolve(1);
      }, config.shutdownGracePeriod);
      running.stop().then(
        () => {
          clearTimeout(timer);
          logger.info('stopped cleanly');
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading the knowledge base');
      void running.reload();
    });
  });
}
