/** Pieces every command shares: io, usage errors, the stderr KB-load reporter, error lines. */
import type { Readable, Writable } from 'node:stream';

import type { KbLoadReporter } from '../app/index.js';
import { KbValidationError, isLogsiftError } from '../errors.js';

export { DEFAULT_KB, PACKAGE_ROOT, loadKbAndMatcher, type KbLoadReporter } from '../app/index.js';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Ends the process; only the real CLI passes it (in-process callers get the code returned). */
  exit?: (code: number) => void;
}

/** Everything a command touches of the process, so tests run commands in-process. */
export interface Io extends Output {
  stdout: Writable;
  stdin: Readable;
}

export class UsageError extends Error {}

/** Lines on stderr for skipped and dropped records and for compile progress. */
export function stderrReporter(io: Output): KbLoadReporter {
  return {
    skipped: (p) => io.err(`logsift: skipped invalid record: ${p.location}: ${p.message}\n`),
    build: (text) => io.err(`logsift: ${text}\n`),
    dropped: (reason, records) => {
      io.err(`logsift: dropped ${records.length} record(s) (${reason === 'filter' ? 'kb filter' : 'kb lint: broad on the background'})\n`);
      // Filters drop whole domains: ids would flood stderr (`kb check` lists them); broad ids are few.
      if (reason === 'broad') for (const r of records) io.err(`logsift:   ${r.id}: ${r.why}\n`);
    },
  };
}

/** One line for any error: `logsift: file:line: field: message`. */
export function formatError(err: unknown): string {
  if (err instanceof KbValidationError) return `logsift: ${err.message}`;
  if (isLogsiftError(err)) {
    const where = err.location;
    return `logsift: ${where ? `${where}: ` : ''}${err.message}`;
  }
  return `logsift: ${(err as Error)?.message ?? String(err)}`;
}
