/** Pieces every command shares: the package root, and loading KB + matcher with progress on stderr. */
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import type { LogsiftError} from '../errors.js';
import { KbValidationError, isLogsiftError } from '../errors.js';
import { loadKnowledgeBase, type KnowledgeBase } from '../kb/index.js';
import { Matcher, type BuildEvent, type MatcherOptions } from '../matcher/index.js';

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

export function describeBuildEvent(e: BuildEvent): string | null {
  switch (e.type) {
    case 'cache-hit':
      return `loaded compiled database from cache in ${e.ms.toFixed(1)} ms`;
    case 'cache-miss':
      return e.reason === 'no cache file' ? null : `cache file not used (${e.reason}); rebuilding`;
    case 'cache-write-failed':
      return `could not write the database cache ${e.file}: ${e.reason}`;
    case 'compile-start':
      return `compiling ${e.patterns} patterns (cached after the first run)…`;
    case 'compile-progress':
      return `  still compiling ${e.patterns} patterns… ${Math.round(e.elapsedMs / 1000)} s`;
    case 'compile-done':
      return `compiled ${e.patterns} patterns in ${(e.ms / 1000).toFixed(1)} s (${(e.bytes / 1048576).toFixed(1)} MiB)`;
  }
}

export async function loadKbAndMatcher(
  paths: readonly string[],
  options: { allowInvalid: boolean; matcher: MatcherOptions },
  io: Output,
): Promise<{ kb: KnowledgeBase; matcher: Matcher }> {
  const { kb, problems } = await loadKnowledgeBase(paths, { allowInvalid: options.allowInvalid });
  for (const p of problems) io.err(`logsift: skipped invalid record: ${p.location}: ${p.message}\n`);
  const matcher = await Matcher.create(kb, {
    ...options.matcher,
    onEvent: (e) => {
      const text = describeBuildEvent(e);
      if (text) io.err(`logsift: ${text}\n`);
      options.matcher.onEvent?.(e);
    },
  });
  return { kb, matcher };
}

/** One line for any error: `logsift: file:line: field: message`. */
export function formatError(err: unknown): string {
  if (err instanceof KbValidationError) return `logsift: ${err.message}`;
  if (isLogsiftError(err)) {
    const where = (err as LogsiftError).location;
    return `logsift: ${where ? `${where}: ` : ''}${err.message}`;
  }
  return `logsift: ${(err as Error)?.message ?? String(err)}`;
}
