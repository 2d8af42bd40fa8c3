/**
 * The one way the CLI and the daemon load a knowledge base and build its matcher:
 * records → validation (invalid ones reported) → kb.include/kb.exclude (dropped ones reported) →
 * matcher → optionally kb.lint: records broad on the background corpus are dropped and the matcher
 * rebuilt without them (reported with their ids; never silent).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { KbFilterSpec } from '../kb/filter.js';
import { KnowledgeBase } from '../kb/knowledge-base.js';
import { loadKnowledgeBaseCached } from '../kb/snapshot.js';
import { Matcher, describeBuild, resolveCacheDir, type BuildEvent, type MatcherOptions } from '../matcher/index.js';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_KB = join(PACKAGE_ROOT, 'data', 'kb');

export type DropReason = 'filter' | 'broad';

/** How a command tells its user about a KB load: lines on stderr for the CLI, logs for the daemon. */
export interface KbLoadReporter {
  skipped(problem: LogsiftError): void;
  build(text: string, event: BuildEvent): void;
  /** Records left out on purpose, with why (`exclude id:culture/*`, `broad: matches 6.7% …`). */
  dropped?(reason: DropReason, records: readonly { id: string; why: string }[]): void;
}

export interface LoadKbOptions {
  allowInvalid: boolean;
  matcher: Omit<MatcherOptions, 'onEvent'>;
  filter?: KbFilterSpec;
  /** kb.lint at load time: drop records matching more than `maxBackgroundRate` of these files' lines. */
  lint?: { background: readonly string[]; maxBackgroundRate: number | null };
}

export interface LoadedKb {
  kb: KnowledgeBase;
  matcher: Matcher;
  /** Records dropped per reason (the metric `logsift_knowledge_base_dropped_records{reason}`). */
  dropped: Record<DropReason, number>;
}

/** Non-empty lines of the background files (whole files are read: keep them to a sample). */
export async function readBackground(files: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new LogsiftError(ErrorCodes.KB_READ, `cannot read background file: ${(err as Error).message}`, { file, cause: err, field: 'kb.lint.background' });
    }
    for (const l of text.split('\n')) {
      const line = l.endsWith('\r') ? l.slice(0, -1) : l;
      if (line.trim() !== '') lines.push(line);
    }
  }
  return lines;
}

/**
 * Loads the KB (reporting skipped and dropped records) and builds its matcher (reporting progress).
 * The validated, filtered KB is snapshotted beside the compiled databases (same directory; none
 * with `cacheDir: null`), so a start on an unchanged KB does no validation (kb/snapshot.ts).
 */
export async function loadKbAndMatcher(paths: readonly string[], options: LoadKbOptions, report: KbLoadReporter): Promise<LoadedKb> {
  const cacheDir = resolveCacheDir(options.matcher.cacheDir);
  const loadOptions = { allowInvalid: options.allowInvalid, ...(options.filter ? { filter: options.filter } : {}) };
  const { kb, problems, dropped } = await loadKnowledgeBaseCached(paths, loadOptions, cacheDir, (e) => {
    if (e.type === 'kb-cache-write-failed') report.build(`could not write the KB snapshot in ${cacheDir}: ${e.reason}`, { type: 'cache-write-failed', file: cacheDir ?? '', reason: e.reason });
  });
  for (const p of problems) report.skipped(p);
  if (dropped.length > 0) report.dropped?.('filter', dropped.map((d) => ({ id: d.id, why: d.reason })));
  const matcherOptions: MatcherOptions = {
    ...options.matcher,
    onEvent: (e) => {
      const text = describeBuild(e);
      if (text) report.build(text, e);
    },
  };
  const matcher = await Matcher.create(kb, matcherOptions);
  const counts: Record<DropReason, number> = { filter: dropped.length, broad: 0 };
  const rate = options.lint?.maxBackgroundRate ?? null;
  if (rate === null || !options.lint || options.lint.background.length === 0) return { kb, matcher, dropped: counts };

  const background = await readBackground(options.lint.background);
  // Imported only when kb.lint is on: a plain start does not load the linter.
  const { broadFindings, scanBackground } = await import('../kb/lint.js');
  const broad = broadFindings(kb, scanBackground(matcher, kb.size, background, 1), rate);
  if (broad.length === 0) return { kb, matcher, dropped: counts };
  const ids = new Set(broad.map((f) => f.id));
  const keep = kb.records.map((record, i) => ({ record, ...kb.sources[i]! })).filter((l) => !ids.has(l.record.id));
  if (keep.length === 0) {
    throw new LogsiftError(ErrorCodes.KB_EMPTY, `kb.lint.maxBackgroundRate ${rate} drops every record (all are broad on ${background.length} background lines)`, { field: 'kb.lint.maxBackgroundRate' });
  }
  report.dropped?.('broad', broad.map((f) => ({ id: f.id, why: `broad: ${f.message}` })));
  counts.broad = broad.length;
  const narrowed = new KnowledgeBase(keep);
  return { kb: narrowed, matcher: await Matcher.create(narrowed, matcherOptions), dropped: counts };
}
