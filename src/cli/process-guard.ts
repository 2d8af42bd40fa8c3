/**
 * The process-level policy for failures no code path expected.
 *
 * - An unhandled promise rejection is a bug, but one stray promise does not corrupt the daemon's
 *   state: it is logged once with its stack (code LOGSIFT_UNEXPECTED), counted in
 *   `logsift_unexpected_errors_total{source="unhandled_rejection"}`, and the process goes on.
 * - An uncaught exception leaves the process in an unknown state: logged, counted, and the process
 *   exits with EXIT_CODES.internalError so the supervisor restarts it.
 *
 * Neither hides a bug: tests fail on both (vitest reports unhandled errors as failures; the
 * integration tests fail on any LOGSIFT_UNEXPECTED log line of a daemon they ran).
 */
import type { Logger } from 'pino';

import type { UnexpectedSource } from '../telemetry/index.js';
import { EXIT_CODES } from './exit-codes.js';

export const UNEXPECTED_CODE = 'LOGSIFT_UNEXPECTED';

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
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
