/**
 * Builds the Hyperscan databases for a knowledge base, or loads them from the on-disk cache.
 *
 * Two databases, so that a cold start matches within seconds:
 * - the ASCII database holds every pattern, with UTF8|UCP dropped where only Python's Unicode
 *   `\w \d \s \b` or a bounded `.` needed it (`asciiFlags`): it compiles several times faster and
 *   answers exactly for messages without non-ASCII bytes and without \x1c–\x1f;
 * - the Unicode database holds only those patterns, with UTF8|UCP, split into parts compiled in
 *   parallel (one per core); it serves the other messages and may arrive later (in the background).
 *
 * Cache key: SHA-256 of the translation logic version, libhs version, CPU platform, the case default
 * and every (record id, regex). A file is used only if its header repeats that key and libhs accepts
 * the bytes; anything else (stale, foreign, truncated) is rebuilt and overwritten, never trusted.
 *
 * Portable databases (`portable: true`, `logsift kb compile --portable`) are compiled for a generic
 * x86-64 target and keyed by that target instead of the host's CPU, so an image can ship them built
 * elsewhere: when the host's own file is missing, a portable file in the cache or a prebuilt directory
 * is loaded (its Unicode file beside it, or in the cache); if libhs refuses it on this host, the
 * database is compiled as usual.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { ErrorCodes, LogsiftError } from '../errors.js';
import { PORTABLE_PLATFORM, type NativeBinding, type NativeDatabase, type NativePattern } from './native.js';
import { demoteAfterCompileFailure, planPatterns, unicodeOnly, type PatternSource, type PlannedPattern } from './plan.js';

/** Bump when translation or flag policy changes, so old cache files are not reused. */
const LOGIC_VERSION = 'logsift-plan-8';
const MAGIC = Buffer.from('LSHSDB02');
const MAX_COMPILE_ATTEMPTS = 8;

export type DatabaseKind = 'ascii' | 'unicode';

export type BuildEvent =
  | { type: 'cache-hit'; file: string; ms: number }
  | { type: 'cache-miss'; file: string; reason: string }
  | { type: 'cache-write-failed'; file: string; reason: string }
  | { type: 'compile-start'; patterns: number; database: DatabaseKind }
  | { type: 'compile-progress'; patterns: number; elapsedMs: number; database: DatabaseKind }
  | { type: 'compile-done'; patterns: number; ms: number; bytes: number; database: DatabaseKind }
  | { type: 'unicode-ready'; patterns: number; parts: number; ms: number; fromCache: boolean }
  | { type: 'unicode-failed'; reason: string };

/** When the Unicode database is built: before returning, in the background, or never (cache only). */
export type UnicodeMode = 'wait' | 'background' | 'cache-only';

export interface BuildOptions {
  ignoreCase: boolean;
  /** Directory for compiled databases; null disables the cache. */
  cacheDir: string | null;
  onEvent?: (event: BuildEvent) => void;
  /** How often compile-progress events fire. Default 2000 ms. */
  progressIntervalMs?: number;
  /** Compile for the generic x86-64 target (PORTABLE_PLATFORM) rather than this host's CPU. */
  portable?: boolean;
  /** Read-only directories searched for a portable database when the cache has none for this host. */
  prebuiltDirs?: readonly string[];
  /** Default 'background'. */
  unicode?: UnicodeMode;
  /** Compiles at once (and Unicode parts). Default: the available cores. */
  parallelism?: number;
}

/** One part of the Unicode database: the pattern (record) indexes it holds, and the database. */
export interface UnicodePart {
  ids: number[];
  db: NativeDatabase;
}

export interface BuiltDatabase {
  plan: PlannedPattern[];
  /** The ASCII database (every native and prefilter pattern); null when there is none. */
  db: NativeDatabase | null;
  /** The Unicode database when it is ready; `unicodePending` otherwise. */
  unicode: UnicodePart[] | null;
  /** Resolves with the Unicode parts (never rejects: a failure resolves with null and an event). */
  unicodePending: Promise<UnicodePart[] | null> | null;
  fromCache: boolean;
  /** Time until the ASCII database was ready (compile or cache load), in seconds. */
  seconds: number;
  cacheKey: string;
}

interface AsciiHeader {
  key: string;
  kind: 'ascii';
  plan: PlannedPattern[];
}

interface UnicodeHeader {
  key: string;
  kind: 'unicode';
  parts: { ids: number[]; bytes: number }[];
}

export function cacheKey(native: NativeBinding, records: readonly PatternSource[], ignoreCase: boolean, portable = false): string {
  const h = createHash('sha256');
  const platform = portable ? { portable: PORTABLE_PLATFORM } : native.platform();
  h.update(`${LOGIC_VERSION}\n${native.version}\n${JSON.stringify(platform)}\n${ignoreCase}\n`);
  for (const r of records) h.update(`${r.id}\0${r.regex}\n`);
  return h.digest('hex');
}

/** The file the ASCII database with this key is cached in. */
export function cacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `${key.slice(0, 32)}.lsdb`);
}

/** The file the Unicode database with this key is cached in. */
export function unicodeCacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `${key.slice(0, 32)}.u.lsdb`);
}

/** Reads a cache file: header JSON and body, or the reason it cannot be used. */
async function readContainer<H extends { key: string }>(file: string, key: string): Promise<{ header: H; body: Buffer } | string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return 'no cache file';
  }
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return 'not a logsift database file';
  const headerLen = bytes.readUInt32LE(MAGIC.length);
  const headerEnd = MAGIC.length + 4 + headerLen;
  if (headerEnd > bytes.length) return 'truncated header';
  let header: H;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, headerEnd).toString('utf8')) as H;
  } catch {
    return 'unreadable header';
  }
  if (header.key !== key) return 'key mismatch (foreign or stale file)';
  return { header, body: bytes.subarray(headerEnd) };
}

function deserialize(native: NativeBinding, bytes: Buffer): NativeDatabase | string {
  try {
    // No copy: hs_deserialize_database copies into memory of its own (aligned); its input need not be.
    return native.deserialize(bytes);
  } catch (err) {
    return `libhs rejected the database (${(err as { code?: string }).code ?? (err as Error).message})`;
  }
}

async function readAsciiCache(native: NativeBinding, file: string, key: string, records: readonly PatternSource[]): Promise<{ plan: PlannedPattern[]; db: NativeDatabase | null } | string> {
  const c = await readContainer<AsciiHeader>(file, key);
  if (typeof c === 'string') return c;
  const { header, body } = c;
  if (header.kind !== 'ascii' || !Array.isArray(header.plan) || header.plan.length !== records.length || header.plan.some((p, i) => p.id !== records[i]!.id)) {
    return 'plan does not match the knowledge base';
  }
  if (body.length === 0) return header.plan.some((p) => p.cls === 'native' || p.cls === 'prefilter') ? 'missing database' : { plan: header.plan, db: null };
  const db = deserialize(native, body);
  return typeof db === 'string' ? db : { plan: header.plan, db };
}

async function readUnicodeCache(native: NativeBinding, file: string, key: string): Promise<UnicodePart[] | string> {
  const c = await readContainer<UnicodeHeader>(file, key);
  if (typeof c === 'string') return c;
  const { header, body } = c;
  if (header.kind !== 'unicode' || !Array.isArray(header.parts)) return 'not a Unicode database file';
  const parts: UnicodePart[] = [];
  let pos = 0;
  for (const p of header.parts) {
    if (pos + p.bytes > body.length) return 'truncated database';
    const db = deserialize(native, body.subarray(pos, pos + p.bytes));
    if (typeof db === 'string') return db;
    parts.push({ ids: p.ids, db });
    pos += p.bytes;
  }
  return parts;
}

async function writeContainer(file: string, header: object, body: Buffer[]): Promise<void> {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, Buffer.concat([MAGIC, len, json, ...body]));
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** At most `limit` compiles at once: each occupies a libuv pool thread (one core) for seconds. */
class CompileSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

interface CompileJob {
  database: DatabaseKind;
  /** The patterns, with the flags of this database. */
  patterns: { plan: PlannedPattern; expression: string; flags: number }[];
  /** A pattern Hyperscan refuses in a multi-compile: the job drops it and compiles again. */
  onCulprit: (plan: PlannedPattern, message: string) => void;
}

async function compileWithProgress(native: NativeBinding, job: CompileJob, options: BuildOptions): Promise<NativeDatabase | null> {
  let members = job.patterns;
  for (let attempt = 0; attempt < MAX_COMPILE_ATTEMPTS; attempt++) {
    if (members.length === 0) return null;
    const patterns: NativePattern[] = members.map((m) => ({ expression: m.expression, flags: m.flags, id: m.plan.index }));
    const started = Date.now();
    const database = job.database;
    options.onEvent?.({ type: 'compile-start', patterns: patterns.length, database });
    const timer = setInterval(
      () => options.onEvent?.({ type: 'compile-progress', patterns: patterns.length, elapsedMs: Date.now() - started, database }),
      options.progressIntervalMs ?? 2000,
    );
    try {
      const db = await (options.portable ? native.compile(patterns, PORTABLE_PLATFORM) : native.compile(patterns));
      options.onEvent?.({ type: 'compile-done', patterns: patterns.length, ms: Date.now() - started, bytes: db.size(), database });
      return db;
    } catch (err) {
      const e = err as { message: string; expression?: number };
      const culprit = e.expression !== undefined && e.expression >= 0 ? members[e.expression] : undefined;
      if (!culprit) throw new LogsiftError(ErrorCodes.COMPILE_FAILED, `Hyperscan compile failed: ${e.message}`, { cause: err });
      // A multi-compile can fail on limits a single-pattern check does not see; name the record and go on.
      job.onCulprit(culprit.plan, e.message);
      members = members.filter((m) => m !== culprit);
    } finally {
      clearInterval(timer);
    }
  }
  throw new LogsiftError(ErrorCodes.COMPILE_FAILED, `Hyperscan compile kept failing after ${MAX_COMPILE_ATTEMPTS} attempts`);
}

/** The Unicode patterns in `parts` groups of about equal size (round robin over the plan). */
function splitUnicode(plan: readonly PlannedPattern[], parts: number): PlannedPattern[][] {
  const sensitive = plan.filter(unicodeOnly);
  const groups: PlannedPattern[][] = Array.from({ length: Math.max(1, Math.min(parts, sensitive.length)) }, () => []);
  sensitive.forEach((p, i) => groups[i % groups.length]!.push(p));
  return groups.filter((g) => g.length > 0);
}

async function buildUnicode(
  native: NativeBinding,
  plan: readonly PlannedPattern[],
  slots: CompileSlots,
  parallelism: number,
  options: BuildOptions,
  file: string | null,
  key: string,
): Promise<UnicodePart[]> {
  const started = Date.now();
  const groups = splitUnicode(plan, parallelism);
  const compiled = await Promise.all(
    groups.map((group) =>
      slots.run(async () => {
        const ids = group.map((p) => p.index);
        const db = await compileWithProgress(
          native,
          {
            database: 'unicode',
            patterns: group.map((p) => ({ plan: p, expression: p.expression!, flags: p.flags! })),
            // Left out of the Unicode database, the pattern is matched by the exact engine on the
            // messages that need it (the ASCII database still serves ASCII messages).
            onCulprit: (p) => ids.splice(ids.indexOf(p.index), 1),
          },
          options,
        );
        return db ? { ids, db } : null;
      }),
    ),
  );
  const parts = compiled.filter((p): p is UnicodePart => p !== null);
  if (file) {
    const header: UnicodeHeader = { key, kind: 'unicode', parts: [] };
    const bodies = parts.map((p) => p.db.serialize());
    parts.forEach((p, i) => header.parts.push({ ids: p.ids, bytes: bodies[i]!.length }));
    await writeContainer(file, header, bodies).catch((err: Error) => options.onEvent?.({ type: 'cache-write-failed', file, reason: err.message }));
  }
  options.onEvent?.({ type: 'unicode-ready', patterns: parts.reduce((n, p) => n + p.ids.length, 0), parts: parts.length, ms: Date.now() - started, fromCache: false });
  return parts;
}

/** The plan as cached: Hyperscan expressions only for the Unicode patterns (compiled on a partial hit). */
function slimPlan(plan: readonly PlannedPattern[]): PlannedPattern[] {
  return plan.map(({ expression, flags, asciiFlags, ...rest }) =>
    asciiFlags !== undefined && expression !== undefined && flags !== undefined ? { ...rest, expression, flags, asciiFlags } : rest,
  );
}

export async function buildDatabase(native: NativeBinding, records: readonly PatternSource[], options: BuildOptions): Promise<BuiltDatabase> {
  const portable = options.portable ?? false;
  let key = cacheKey(native, records, options.ignoreCase, portable);
  const asciiFile = options.cacheDir ? cacheFile(options.cacheDir, key) : null;
  let unicodeFile = options.cacheDir ? unicodeCacheFile(options.cacheDir, key) : null;
  /** Where a Unicode database for the loaded ASCII one may be: beside it, then in the cache. */
  let unicodeCandidates: string[] = unicodeFile ? [unicodeFile] : [];
  const mode = options.unicode ?? 'background';
  const parallelism = Math.max(1, options.parallelism ?? availableParallelism());
  const slots = new CompileSlots(parallelism);
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;

  let plan: PlannedPattern[] | null = null;
  let db: NativeDatabase | null = null;
  let fromCache = false;
  if (asciiFile && options.cacheDir) {
    // This host's own file first, then a portable one (cache, then prebuilt directories).
    const candidates: { dir: string; key: string }[] = [{ dir: options.cacheDir, key }];
    if (!portable) {
      const portableKey = cacheKey(native, records, options.ignoreCase, true);
      for (const dir of [options.cacheDir, ...(options.prebuiltDirs ?? [])]) candidates.push({ dir, key: portableKey });
    }
    for (const c of candidates) {
      const file = cacheFile(c.dir, c.key);
      const hit = await readAsciiCache(native, file, c.key, records);
      if (typeof hit !== 'string') {
        ({ plan, db } = hit);
        fromCache = true;
        key = c.key;
        // The Unicode database goes with the ASCII one: same key; written to the cache if compiled here.
        unicodeFile = unicodeCacheFile(options.cacheDir, key);
        unicodeCandidates = [...new Set([unicodeCacheFile(c.dir, key), unicodeFile])];
        options.onEvent?.({ type: 'cache-hit', file, ms: elapsed() * 1000 });
        break;
      }
      // Said for this host's file, as ever, and for a portable file only when there is one that is not used.
      if (file === asciiFile || hit !== 'no cache file') options.onEvent?.({ type: 'cache-miss', file, reason: hit });
    }
  }

  let unicode: UnicodePart[] | null = null;
  let unicodeStart: (() => Promise<UnicodePart[]>) | null = null;
  const sensitive = (p: PlannedPattern[]): boolean => p.some(unicodeOnly);
  if (plan && sensitive(plan)) {
    for (const file of unicodeCandidates) {
      const cached = await readUnicodeCache(native, file, key);
      if (typeof cached !== 'string') {
        unicode = cached;
        options.onEvent?.({ type: 'unicode-ready', patterns: cached.reduce((n, p) => n + p.ids.length, 0), parts: cached.length, ms: elapsed() * 1000, fromCache: true });
        break;
      }
      if (cached !== 'no cache file') options.onEvent?.({ type: 'cache-miss', file, reason: cached });
    }
    if (!unicode) {
      const p = plan;
      const file = unicodeFile;
      const k = key;
      unicodeStart = () => buildUnicode(native, p, slots, parallelism, options, file, k);
    }
  }

  if (!plan) {
    const fresh = await planPatterns(native, records, { ignoreCase: options.ignoreCase });
    plan = fresh;
    // Queue the ASCII compile first: it takes the first slot, the Unicode parts the others.
    const ascii = slots.run(() =>
      compileWithProgress(
        native,
        {
          database: 'ascii',
          patterns: fresh.filter((p) => p.cls === 'native' || p.cls === 'prefilter').map((p) => ({ plan: p, expression: p.expression!, flags: p.asciiFlags ?? p.flags! })),
          onCulprit: (p, message) => demoteAfterCompileFailure(p, message),
        },
        options,
      ),
    );
    // The Unicode parts start at once (on the other cores); a pattern the ASCII compile demotes is
    // no longer `unicodeOnly` and is ignored in their results (see Matcher.attachUnicode).
    if (sensitive(fresh)) unicodeStart = () => buildUnicode(native, fresh, slots, parallelism, options, unicodeFile, key);
    const unicodeEarly = unicodeStart && mode !== 'cache-only' ? unicodeStart() : null;
    unicodeEarly?.catch(() => undefined); // reported through unicodePending below
    db = await ascii;
    if (asciiFile && options.cacheDir) {
      try {
        await mkdir(options.cacheDir, { recursive: true });
        await writeContainer(asciiFile, { key, kind: 'ascii', plan: slimPlan(fresh) } satisfies AsciiHeader, db ? [db.serialize()] : []);
      } catch (err) {
        options.onEvent?.({ type: 'cache-write-failed', file: asciiFile, reason: (err as Error).message });
      }
    }
    if (unicodeEarly) unicodeStart = () => unicodeEarly;
  }
  const seconds = elapsed();

  let unicodePending: Promise<UnicodePart[] | null> | null = null;
  if (unicodeStart && mode !== 'cache-only') {
    unicodePending = unicodeStart().catch((err: Error) => {
      options.onEvent?.({ type: 'unicode-failed', reason: err.message });
      return null;
    });
    if (mode === 'wait') {
      unicode = await unicodePending;
      unicodePending = null;
    }
  }
  return { plan, db, unicode, unicodePending, fromCache, seconds, cacheKey: key };
}

/** One human-readable line per build event, or null for the ones not worth saying. */
export function describeBuild(e: BuildEvent): string | null {
  switch (e.type) {
    case 'cache-hit':
      return `loaded compiled database from cache in ${e.ms.toFixed(1)} ms`;
    case 'cache-miss':
      return e.reason === 'no cache file' ? null : `cache file not used (${e.reason}); rebuilding`;
    case 'cache-write-failed':
      return `could not write the database cache ${e.file}: ${e.reason}`;
    case 'compile-start':
      return `compiling ${e.patterns} patterns (${e.database} database, cached after the first run)…`;
    case 'compile-progress':
      return `  still compiling ${e.patterns} patterns (${e.database})… ${Math.round(e.elapsedMs / 1000)} s`;
    case 'compile-done':
      return `compiled ${e.patterns} patterns (${e.database}) in ${(e.ms / 1000).toFixed(1)} s (${(e.bytes / 1048576).toFixed(1)} MiB)`;
    case 'unicode-ready':
      return e.fromCache ? null : `Unicode database ready: ${e.patterns} patterns in ${e.parts} parts, ${(e.ms / 1000).toFixed(1)} s (non-ASCII messages used the exact engine until now)`;
    case 'unicode-failed':
      return `the Unicode database could not be built (${e.reason}); non-ASCII messages use the exact engine`;
  }
}
