/** Pieces every command shares: the package root, and loading KB + matcher with progress on stderr. */
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { KbValidationError, isLogsiftError, type LogsiftError } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import { loadKnowledgeBaseCached } from '../kb/snapshot.js';
import { Matcher, defaultCacheDir, describeBuild, type BuildEvent, type MatcherOptions } from '../matcher/index.js';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_KB = join(PACKAGE_ROOT, 'data', 'kb');

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Everything a command touches of the process, so tests run commands in-process. */
export interface Io extends Output {
  stdout: Writable;
  stdin: Readable;
}

export class UsageError extends Error {}

/** How a command tells its user about a KB load: lines on stderr for the CLI, logs for the daemon. */
export interface KbLoadReporter {
  skipped(problem: LogsiftError): void;
  build(text: string, event: BuildEvent): void;
}

export function stderrReporter(io: Output): KbLoadReporter {
  return {
    skipped: (p) => io.err(`logsift: skipped invalid record: ${p.location}: ${p.message}\n`),
    build: (text) => io.err(`logsift: ${text}\n`),
  };
}

/**
 * Loads the KB (reporting skipped records) and builds its matcher (reporting compile progress). The
 * validated KB is cached beside the compiled databases (same directory; none with `cacheDir: null`).
 */
export async function loadKbAndMatcher(
  paths: readonly string[],
  options: { allowInvalid: boolean; matcher: Omit<MatcherOptions, 'onEvent'> },
  report: KbLoadReporter,
): Promise<{ kb: KnowledgeBase; matcher: Matcher }> {
  const cacheDir = options.matcher.cacheDir === undefined ? defaultCacheDir() : options.matcher.cacheDir;
  const { kb, problems } = await loadKnowledgeBaseCached(paths, { allowInvalid: options.allowInvalid }, cacheDir, (e) => {
    if (e.type === 'kb-cache-write-failed') report.build(`could not write the KB snapshot in ${cacheDir}: ${e.reason}`, { type: 'cache-write-failed', file: cacheDir ?? '', reason: e.reason });
  });
  for (const p of problems) report.skipped(p);
  const matcher = await Matcher.create(kb, {
    ...options.matcher,
    onEvent: (e) => {
      const text = describeBuild(e);
      if (text) report.build(text, e);
    },
  });
  return { kb, matcher };
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
