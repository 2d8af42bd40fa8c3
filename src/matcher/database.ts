/**
 * Builds the Hyperscan database for a knowledge base, or loads it from the on-disk cache.
 *
 * Cache key: SHA-256 of the translation logic version, libhs version, CPU platform, the case default
 * and every (record id, regex). A file is used only if its header repeats that key and libhs accepts
 * the bytes; anything else (stale, foreign, truncated) is rebuilt and overwritten, never trusted.
 *
 * Portable databases (`portable: true`, `logsift kb compile --portable`) are compiled for a generic
 * x86-64 target and keyed by that target instead of the host's CPU, so an image can ship one built
 * elsewhere: when the host's own file is missing, a portable file in the cache or a prebuilt directory
 * is loaded; if libhs refuses it on this host, the database is compiled as usual.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { KbRecord } from '../kb/index.js';
import { PORTABLE_PLATFORM, type NativeBinding, type NativeDatabase } from './native.js';
import { demoteAfterCompileFailure, planPatterns, type PlannedPattern } from './plan.js';

/** Bump when translation or flag policy changes, so old cache files are not reused. */
const LOGIC_VERSION = 'logsift-plan-5';
const MAGIC = Buffer.from('LSHSDB01');
const MAX_COMPILE_ATTEMPTS = 8;

export type BuildEvent =
  | { type: 'cache-hit'; file: string; ms: number }
  | { type: 'cache-miss'; file: string; reason: string }
  | { type: 'cache-write-failed'; file: string; reason: string }
  | { type: 'compile-start'; patterns: number }
  | { type: 'compile-progress'; patterns: number; elapsedMs: number }
  | { type: 'compile-done'; patterns: number; ms: number; bytes: number };

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
}

export interface BuiltDatabase {
  plan: PlannedPattern[];
  db: NativeDatabase | null;
  fromCache: boolean;
  /** Compile (or cache load) time in seconds. */
  seconds: number;
  cacheKey: string;
}

interface CacheHeader {
  key: string;
  plan: PlannedPattern[];
}

export function cacheKey(native: NativeBinding, records: readonly KbRecord[], ignoreCase: boolean, portable = false): string {
  const h = createHash('sha256');
  const platform = portable ? { portable: PORTABLE_PLATFORM } : native.platform();
  h.update(`${LOGIC_VERSION}\n${native.version}\n${JSON.stringify(platform)}\n${ignoreCase}\n`);
  for (const r of records) h.update(`${r.id}\0${r.regex}\n`);
  return h.digest('hex');
}

/** The file a database with this key is cached in. */
export function cacheFile(cacheDir: string, key: string): string {
  return join(cacheDir, `${key.slice(0, 32)}.lsdb`);
}

async function readCache(native: NativeBinding, file: string, key: string, records: readonly KbRecord[]): Promise<{ plan: PlannedPattern[]; db: NativeDatabase | null } | string> {
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
  let header: CacheHeader;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, headerEnd).toString('utf8')) as CacheHeader;
  } catch {
    return 'unreadable header';
  }
  if (header.key !== key) return 'key mismatch (foreign or stale file)';
  if (!Array.isArray(header.plan) || header.plan.length !== records.length || header.plan.some((p, i) => p.id !== records[i]!.id)) {
    return 'plan does not match the knowledge base';
  }
  const body = bytes.subarray(headerEnd);
  if (body.length === 0) return header.plan.some((p) => p.cls === 'native' || p.cls === 'prefilter') ? 'missing database' : { plan: header.plan, db: null };
  try {
    return { plan: header.plan, db: native.deserialize(Buffer.from(body)) };
  } catch (err) {
    return `libhs rejected the database (${(err as { code?: string }).code ?? (err as Error).message})`;
  }
}

async function writeCache(file: string, header: CacheHeader, db: NativeDatabase | null): Promise<void> {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, Buffer.concat([MAGIC, len, json, db ? db.serialize() : Buffer.alloc(0)]));
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function compileWithProgress(native: NativeBinding, plan: PlannedPattern[], options: BuildOptions): Promise<NativeDatabase | null> {
  for (let attempt = 0; attempt < MAX_COMPILE_ATTEMPTS; attempt++) {
    const hsPatterns = plan.filter((p) => p.cls === 'native' || p.cls === 'prefilter');
    if (hsPatterns.length === 0) return null;
    const patterns = hsPatterns.map((p) => ({ expression: p.expression!, flags: p.flags!, id: p.index }));
    const started = Date.now();
    options.onEvent?.({ type: 'compile-start', patterns: patterns.length });
    const timer = setInterval(
      () => options.onEvent?.({ type: 'compile-progress', patterns: patterns.length, elapsedMs: Date.now() - started }),
      options.progressIntervalMs ?? 2000,
    );
    try {
      const db = await (options.portable ? native.compile(patterns, PORTABLE_PLATFORM) : native.compile(patterns));
      options.onEvent?.({ type: 'compile-done', patterns: patterns.length, ms: Date.now() - started, bytes: db.size() });
      return db;
    } catch (err) {
      const e = err as { message: string; expression?: number };
      const culprit = e.expression !== undefined && e.expression >= 0 ? hsPatterns[e.expression] : undefined;
      if (!culprit) throw new LogsiftError(ErrorCodes.COMPILE_FAILED, `Hyperscan compile failed: ${e.message}`, { cause: err });
      // A multi-compile can fail on limits a single-pattern check does not see; name the record and go on.
      demoteAfterCompileFailure(culprit, e.message);
    } finally {
      clearInterval(timer);
    }
  }
  throw new LogsiftError(ErrorCodes.COMPILE_FAILED, `Hyperscan compile kept failing after ${MAX_COMPILE_ATTEMPTS} attempts`);
}

export async function buildDatabase(native: NativeBinding, records: readonly KbRecord[], options: BuildOptions): Promise<BuiltDatabase> {
  const portable = options.portable ?? false;
  const key = cacheKey(native, records, options.ignoreCase, portable);
  const file = options.cacheDir ? cacheFile(options.cacheDir, key) : null;
  const started = process.hrtime.bigint();
  if (file && options.cacheDir) {
    // This host's own file first, then a portable one (cache, then prebuilt directories).
    const candidates: [string, string][] = [[file, key]];
    if (!portable) {
      const portableKey = cacheKey(native, records, options.ignoreCase, true);
      for (const dir of [options.cacheDir, ...(options.prebuiltDirs ?? [])]) candidates.push([cacheFile(dir, portableKey), portableKey]);
    }
    for (const [candidate, candidateKey] of candidates) {
      const hit = await readCache(native, candidate, candidateKey, records);
      if (typeof hit !== 'string') {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        options.onEvent?.({ type: 'cache-hit', file: candidate, ms: seconds * 1000 });
        return { ...hit, fromCache: true, seconds, cacheKey: candidateKey };
      }
      // Said for this host's file, as ever, and for a portable file only when there is one that is not used.
      if (candidate === file || hit !== 'no cache file') options.onEvent?.({ type: 'cache-miss', file: candidate, reason: hit });
    }
  }
  const plan = await planPatterns(native, records, { ignoreCase: options.ignoreCase });
  const db = await compileWithProgress(native, plan, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (file && options.cacheDir) {
    try {
      await mkdir(options.cacheDir, { recursive: true });
      // The Hyperscan expressions and flags are only needed to compile: keep them out of the cache.
      const slim = plan.map(({ expression: _e, flags: _f, ...rest }) => rest);
      await writeCache(file, { key, plan: slim }, db);
    } catch (err) {
      options.onEvent?.({ type: 'cache-write-failed', file, reason: (err as Error).message });
    }
  }
  return { plan, db, fromCache: false, seconds, cacheKey: key };
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
      return `compiling ${e.patterns} patterns (cached after the first run)…`;
    case 'compile-progress':
      return `  still compiling ${e.patterns} patterns… ${Math.round(e.elapsedMs / 1000)} s`;
    case 'compile-done':
      return `compiled ${e.patterns} patterns in ${(e.ms / 1000).toFixed(1)} s (${(e.bytes / 1048576).toFixed(1)} MiB)`;
  }
}
