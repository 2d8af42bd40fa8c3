/**
 * A cached start: the validated, sorted and hashed KB is kept beside the compiled databases, keyed
 * by the KB paths and options plus each file's path, size, mtime and SHA-1 (cheap next to parsing and
 * validating). A hit loads it with one JSON.parse: no zod (not even imported), no canonical hashing.
 * Anything that does not check out is ignored and rebuilt, never trusted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { LogsiftError, type ErrorCode } from '../errors.js';
import { listRecordFiles } from './files.js';
import { KnowledgeBase, type KnowledgeBaseState } from './knowledge-base.js';
import type { KbFilterSpec } from './filter.js';
import type { LoadOptions } from './load.js';

const SNAPSHOT_VERSION = 'logsift-kb-snapshot-2';

interface SkippedProblem {
  code: string;
  message: string;
  file?: string;
  line?: number;
  field?: string;
}

/** A record the KB filter left out, and why. */
export interface SnapshotDropped {
  id: string;
  reason: string;
}

interface Snapshot {
  key: string;
  kb: KnowledgeBaseState;
  problems: SkippedProblem[];
  dropped: SnapshotDropped[];
}

export type CachedLoadOptions = LoadOptions & { filter?: KbFilterSpec };

export type SnapshotEvent = { type: 'kb-cache-hit'; ms: number } | { type: 'kb-cache-miss'; reason: string } | { type: 'kb-cache-write-failed'; reason: string };


/** Key of the KB's input: paths, options, and every file's size, mtime and content hash. */
export async function snapshotKey(paths: readonly string[], options: CachedLoadOptions): Promise<string | null> {
  const h = createHash('sha256');
  h.update(`${SNAPSHOT_VERSION}\n${options.allowInvalid === true}\n${JSON.stringify(options.filter ?? {})}\n`);
  try {
    for (const path of paths) {
      h.update(`path\0${path}\n`);
      for (const file of await listRecordFiles(path)) {
        const [info, bytes] = await Promise.all([stat(file), readFile(file)]);
        h.update(`${file}\0${info.size}\0${info.mtimeMs}\0`).update(createHash('sha1').update(bytes).digest()).update('\n');
      }
    }
  } catch {
    return null; // unreadable: the full load reports it properly
  }
  return h.digest('hex');
}

async function readSnapshot(file: string, key: string): Promise<Snapshot | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return 'no cache file';
  }
  try {
    const s = JSON.parse(text) as Snapshot;
    if (s.key !== key || !Array.isArray(s.kb?.records) || !Array.isArray(s.kb.sources) || s.kb.records.length !== s.kb.sources.length || !Array.isArray(s.dropped) || typeof s.kb.version !== 'string') {
      return 'stale or foreign snapshot';
    }
    return s;
  } catch {
    return 'unreadable snapshot';
  }
}

/**
 * `loadKnowledgeBase` with a snapshot under `cacheDir` (null: no snapshot). The full load (and zod)
 * is imported only on a miss.
 */
export async function loadKnowledgeBaseCached(
  paths: readonly string[],
  options: CachedLoadOptions,
  cacheDir: string | null,
  onEvent?: (e: SnapshotEvent) => void,
): Promise<{ kb: KnowledgeBase; problems: LogsiftError[]; dropped: SnapshotDropped[] }> {
  const started = performance.now();
  const key = cacheDir ? await snapshotKey(paths, options) : null;
  const file = cacheDir && key ? join(cacheDir, `kb-${key.slice(0, 32)}.json`) : null;
  if (file && key) {
    const hit = await readSnapshot(file, key);
    if (typeof hit !== 'string') {
      const problems = hit.problems.map(
        (p) => new LogsiftError(p.code as ErrorCode, p.message, { ...(p.file !== undefined ? { file: p.file } : {}), ...(p.line !== undefined ? { line: p.line } : {}), ...(p.field !== undefined ? { field: p.field } : {}) }),
      );
      onEvent?.({ type: 'kb-cache-hit', ms: performance.now() - started });
      return { kb: new KnowledgeBase(hit.kb), problems, dropped: hit.dropped };
    }
    onEvent?.({ type: 'kb-cache-miss', reason: hit });
  }
  const { loadKnowledgeBase } = await import('./index.js');
  const loaded = await loadKnowledgeBase(paths, options);
  const dropped = loaded.dropped.map((d) => ({ id: d.loaded.record.id, reason: d.reason }));
  if (file && key && cacheDir) {
    const snapshot: Snapshot = {
      key,
      kb: loaded.kb.state(),
      problems: loaded.problems.map((p) => ({ code: p.code, message: p.message, ...(p.file !== undefined ? { file: p.file } : {}), ...(p.line !== undefined ? { line: p.line } : {}), ...(p.field !== undefined ? { field: p.field } : {}) })),
      dropped,
    };
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(cacheDir, { recursive: true });
      await writeFile(tmp, JSON.stringify(snapshot));
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      onEvent?.({ type: 'kb-cache-write-failed', reason: (err as Error).message });
    }
  }
  return { kb: loaded.kb, problems: loaded.problems, dropped };
}
