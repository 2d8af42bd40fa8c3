/**
 * A cached start: the validated, sorted and hashed KB is kept beside the compiled databases, keyed
 * by the KB paths and options plus each file's path, size, mtime and SHA-1 (cheap next to parsing and
 * validating). A hit does no zod (not even imported) and no canonical hashing.
 * Anything that does not check out is ignored and rebuilt, never trusted.
 *
 * The file: one line of JSON (key, version, problems, dropped, sources, each record's head — the
 * fields matching and ranking read of every record —, its signature's fixed words (the ranking's word
 * weights are counted from them), its regex's forms and words (forms.ts) and where each record's JSON starts), then every
 * full record's JSON, back to back. A start parses the line only; a record's JSON is parsed when it
 * is first asked for (an event's root cause, workarounds…): 90% of the bytes are fields that only
 * matched records show, and most records match nothing in a given run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ErrorCodes, LogsiftError, type ErrorCode } from '../errors.js';
import { listRecordFiles } from './files.js';
import { HEAD_FIELDS, KnowledgeBase, type KnowledgeBaseState, type RecordHead } from './knowledge-base.js';
import type { KbRecord } from './record.js';
import { FORMS_VERSION, type RegexWords } from './forms.js';
import { WORDS_VERSION } from './words.js';
import type { KbFilterSpec } from './filter.js';
import type { LoadOptions } from './load.js';

const SNAPSHOT_VERSION = `logsift-kb-snapshot-4 words-${WORDS_VERSION} forms-${FORMS_VERSION}`;

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

/** The snapshot's first line; the records' JSON follows it. */
interface SnapshotHeader {
  key: string;
  version: string;
  problems: SkippedProblem[];
  dropped: SnapshotDropped[];
  sources: { file: string; line: number }[];
  heads: RecordHead[];
  /** Each signature's fixed words (words.ts): the word weights of the ranking are counted from them. */
  words: string[][];
  /** Each regex's forms and words (forms.ts): parsing every regex is the rest of that set-up. */
  regex: RegexWords[];
  /** Record i's JSON is bytes offsets[i] to offsets[i + 1] after the first line. */
  offsets: number[];
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

async function readSnapshot(file: string, key: string): Promise<{ header: SnapshotHeader; body: Buffer; bytes: Buffer } | string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return 'no cache file';
  }
  return parseSnapshot(bytes, key);
}

function parseSnapshot(bytes: Buffer, key: string): { header: SnapshotHeader; body: Buffer; bytes: Buffer } | string {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return 'unreadable snapshot';
  let h: SnapshotHeader;
  try {
    h = JSON.parse(bytes.toString('utf8', 0, nl)) as SnapshotHeader;
  } catch {
    return 'unreadable snapshot';
  }
  const body = bytes.subarray(nl + 1);
  const n = Array.isArray(h?.heads) ? h.heads.length : -1;
  if (
    n < 0 ||
    h.key !== key ||
    typeof h.version !== 'string' ||
    !Array.isArray(h.sources) ||
    h.sources.length !== n ||
    !Array.isArray(h.words) ||
    h.words.length !== n ||
    !Array.isArray(h.regex) ||
    h.regex.length !== n ||
    !Array.isArray(h.problems) ||
    !Array.isArray(h.dropped) ||
    !Array.isArray(h.offsets) ||
    h.offsets.length !== n + 1 ||
    h.offsets[0] !== 0 ||
    h.offsets[n] !== body.length
  ) {
    return 'stale or foreign snapshot';
  }
  return { header: h, body, bytes };
}

/** The snapshot each lazy KB was read from: worker threads open the same bytes (`kbSource`). */
const origins = new WeakMap<KnowledgeBase, { bytes: Buffer; key: string; shared?: SharedArrayBuffer }>();

function lazyKnowledgeBase(where: string, snapshot: { header: SnapshotHeader; body: Buffer; bytes: Buffer }, key: string): KnowledgeBase {
  const { header, body } = snapshot;
  const kb = new KnowledgeBase({ heads: header.heads, sources: header.sources, version: header.version, load: (i) => snapshotRecord(where, header, body, i), signatureWords: header.words, regexWords: header.regex });
  origins.set(kb, { bytes: snapshot.bytes, key });
  return kb;
}

/**
 * How a worker thread gets the same KB: the snapshot's bytes, shared (not copied, and not read from
 * the file again: the file may have changed since), when the KB was read from one; its validated
 * records otherwise. Opening a shared snapshot parses its first line only, as a cached start does.
 */
export type KbSource = { snapshot: { bytes: SharedArrayBuffer; key: string; version: string } } | { state: KnowledgeBaseState };

export function kbSource(kb: KnowledgeBase): KbSource {
  const origin = origins.get(kb);
  if (origin === undefined) return { state: kb.state() };
  if (origin.shared === undefined) {
    origin.shared = new SharedArrayBuffer(origin.bytes.length);
    origin.bytes.copy(Buffer.from(origin.shared));
  }
  return { snapshot: { bytes: origin.shared, key: origin.key, version: kb.version } };
}

/** The KB of a `kbSource`, in a worker thread. */
export function openKbSource(source: KbSource): KnowledgeBase {
  if ('state' in source) return new KnowledgeBase(source.state);
  const { bytes, key, version } = source.snapshot;
  const parsed = parseSnapshot(Buffer.from(bytes), key);
  if (typeof parsed === 'string' || parsed.header.version !== version) {
    throw new LogsiftError(ErrorCodes.KB_READ, `the shared KB snapshot does not open (${typeof parsed === 'string' ? parsed : `version ${parsed.header.version}, expected ${version}`})`);
  }
  return lazyKnowledgeBase('<shared KB snapshot>', parsed, key);
}

/** Record `index` of a snapshot, parsed; a record that does not parse back to its head's id is an error. */
function snapshotRecord(file: string, header: SnapshotHeader, body: Buffer, index: number): KbRecord {
  let r: KbRecord | undefined;
  try {
    r = JSON.parse(body.toString('utf8', header.offsets[index], header.offsets[index + 1])) as KbRecord;
  } catch {
    r = undefined;
  }
  if (r?.id !== header.heads[index]!.id) {
    throw new LogsiftError(ErrorCodes.KB_READ, `KB snapshot record ${index} is damaged: delete the file to rebuild it`, { file });
  }
  return r;
}

function headOf(r: KbRecord): RecordHead {
  const head: Record<string, unknown> = {};
  for (const f of HEAD_FIELDS) if (r[f] !== undefined) head[f] = r[f];
  return head as RecordHead;
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
  const file = cacheDir && key ? join(cacheDir, `kb-${key.slice(0, 32)}.snapshot`) : null;
  if (file && key) {
    const hit = await readSnapshot(file, key);
    if (typeof hit !== 'string') {
      const { header } = hit;
      const problems = header.problems.map(
        (p) => new LogsiftError(p.code as ErrorCode, p.message, { ...(p.file !== undefined ? { file: p.file } : {}), ...(p.line !== undefined ? { line: p.line } : {}), ...(p.field !== undefined ? { field: p.field } : {}) }),
      );
      onEvent?.({ type: 'kb-cache-hit', ms: performance.now() - started });
      return { kb: lazyKnowledgeBase(file, hit, key), problems, dropped: header.dropped };
    }
    onEvent?.({ type: 'kb-cache-miss', reason: hit });
  }
  const { loadKnowledgeBase } = await import('./index.js');
  const loaded = await loadKnowledgeBase(paths, options);
  const dropped = loaded.dropped.map((d) => ({ id: d.loaded.record.id, reason: d.reason }));
  if (file && key && cacheDir) {
    const records = loaded.kb.records.map((r) => Buffer.from(JSON.stringify(r), 'utf8'));
    const offsets = [0];
    for (const r of records) offsets.push(offsets[offsets.length - 1]! + r.length);
    const header: SnapshotHeader = {
      key,
      version: loaded.kb.version,
      problems: loaded.problems.map((p) => ({ code: p.code, message: p.message, ...(p.file !== undefined ? { file: p.file } : {}), ...(p.line !== undefined ? { line: p.line } : {}), ...(p.field !== undefined ? { field: p.field } : {}) })),
      dropped,
      sources: [...loaded.kb.sources],
      heads: loaded.kb.records.map(headOf),
      words: loaded.kb.heads.map((_, i) => [...loaded.kb.signatureWords(i)]),
      regex: loaded.kb.heads.map((_, i) => loaded.kb.regexWords(i)),
      offsets,
    };
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(cacheDir, { recursive: true });
      await writeFile(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), ...records]));
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      onEvent?.({ type: 'kb-cache-write-failed', reason: (err as Error).message });
    }
  }
  return { kb: loaded.kb, problems: loaded.problems, dropped };
}
