/**
 * The process-level policy for failures no code path expected.
 *
 * - An unhandled promise rejection is a bug, but one stray promise does not corrupt the daemon's
 *   state: it is logged once with its stack (code LOGSIFT_UNEXPECTED), counted in
 *   `logsift_unexpected_errors_total{source="unhandled_rejection"}`, and the process goes on.
 * - An uncaught exception leaves the process in an unknown state: logged, counted, and the process
 *   exits with EXIT_CODES.internalError so the supervisor restarts it.
 *
 * - A Node process warning (deprecation, MaxListeners, ...) goes to the structured log as one JSON
 *   line (code LOGSIFT_NODE_WARNING) instead of Node's plain-text stderr line, so log shippers parse
 *   it. One warning is known and harmless: a negative timer delay, which Node clamps to 1 ms as Node
 *   20 did silently, and Node 24+ warns about (TimeoutNegativeWarning). kafkajs computes some of its
 *   delays as a time minus `Date.now()` (issue #1751; its request queue's is mended in
 *   src/kafka/kafkajs.ts). It is logged once at debug level, not once per client at warn.
 *
 * Neither hides a bug: tests fail on both (vitest reports unhandled errors as failures; the
 * integration tests fail on any LOGSIFT_UNEXPECTED log line of a daemon they ran).
 */
import type { Logger } from 'pino';

import type { UnexpectedSource } from '../telemetry/index.js';
import { EXIT_CODES } from './exit-codes.js';

export const UNEXPECTED_CODE = 'LOGSIFT_UNEXPECTED';
export const NODE_WARNING_CODE = 'LOGSIFT_NODE_WARNING';

export interface ProcessGuardDeps {
  logger: Logger;
  /** Counts one unexpected failure (the metrics, once they exist). */
  count: (source: UnexpectedSource) => void;
  /** Ends the process (the CLI passes process.exit). */
  exit: (code: number) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuard(deps: ProcessGuardDeps): () => void {
  const onRejection = (reason: unknown): void => {
    deps.count('unhandled_rejection');
    deps.logger.error({ err: reason, code: UNEXPECTED_CODE }, 'unhandled promise rejection (a bug in logsift: please report it); the process goes on');
  };
  const onException = (err: Error): void => {
    deps.count('uncaught_exception');
    deps.logger.fatal({ err, code: UNEXPECTED_CODE }, `uncaught exception (a bug in logsift: please report it); exiting with ${EXIT_CODES.internalError}`);
    deps.exit(EXIT_CODES.internalError);
  };
  let negativeTimeoutLogged = false;
  const onWarning = (warning: Error): void => {
    if (warning.name === 'TimeoutNegativeWarning') {
      if (!negativeTimeoutLogged) deps.logger.debug({ code: NODE_WARNING_CODE, warning: warning.name }, 'a negative timer delay was clamped to 1 ms (kafkajs, harmless); further ones are not logged');
      negativeTimeoutLogged = true;
      return;
    }
    deps.logger.warn({ code: NODE_WARNING_CODE, warning: warning.name, err: warning }, `Node warning: ${warning.message}`);
  };
  // Node prints warnings through a 'warning' listener of its own; ours replaces it while installed.
  const nodeWarningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', onWarning);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    process.off('warning', onWarning);
    for (const l of nodeWarningListeners) process.on('warning', l);
  };
}
