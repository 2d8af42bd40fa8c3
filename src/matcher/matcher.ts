/**
 * Scans batches of messages against the compiled knowledge base: one native call per batch, one
 * hs_scan per message, then the exact engine only where Hyperscan's answer is a superset:
 * prefilter candidates, and `.` patterns on multi-line messages (the database is DOTALL).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import { buildDatabase, type BuildEvent } from './database.js';
import { loadNative, type NativeBinding, type NativeScanner } from './native.js';
import { summarize, type CompileClass, type PlannedPattern } from './plan.js';

export interface MatcherOptions {
  /** Case-insensitive unless a pattern says otherwise (deadends.dev semantics). Default true. */
  ignoreCase?: boolean;
  /** Compiled-database cache directory; null disables it. Default: `defaultCacheDir()`. */
  cacheDir?: string | null;
  /** Compile for a generic x86-64 target, loadable on any host (see buildDatabase). Default false. */
  portable?: boolean;
  /** Read-only directories of portable databases (an image's bundled KB). Default: `defaultPrebuiltDirs()`. */
  prebuiltDirs?: readonly string[];
  onEvent?: (event: BuildEvent) => void;
}

export interface MatcherInfo {
  patterns: Record<CompileClass, number>;
  databaseBytes: number;
  fromCache: boolean;
  /** Seconds spent compiling, or loading from the cache. */
  buildSeconds: number;
  hyperscanVersion: string;
}

const NO_MATCHES: readonly number[] = Object.freeze([]);
const NEWLINE = 0x0a;

/** `$LOGSIFT_CACHE_DIR`, else `$XDG_CACHE_HOME/logsift`, else `~/.cache/logsift`. */
export function defaultCacheDir(): string {
  const env = process.env;
  return env['LOGSIFT_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'logsift');
}

/** `$LOGSIFT_KB_PREBUILT_DIR`, colon-separated; none by default. */
export function defaultPrebuiltDirs(): string[] {
  return (process.env['LOGSIFT_KB_PREBUILT_DIR'] ?? '').split(':').filter(Boolean);
}

export class Matcher {
  readonly plan: readonly PlannedPattern[];
  readonly info: MatcherInfo;
  private readonly scanner: NativeScanner | null;
  /** Exact-engine RegExps, built on first use: most records never need one in a given stream. */
  private readonly exact: (RegExp | null | undefined)[];
  private readonly needsConfirm: Uint8Array;
  private readonly newlineSensitive: Uint8Array;
  private readonly fallback: number[];
  private data = Buffer.allocUnsafe(1 << 16);
  private offsets = new Uint32Array(1025);

  private constructor(plan: PlannedPattern[], scanner: NativeScanner | null, info: MatcherInfo) {
    this.plan = plan;
    this.scanner = scanner;
    this.info = info;
    this.exact = new Array<RegExp | null | undefined>(plan.length);
    this.needsConfirm = Uint8Array.from(plan, (p) => (p.cls === 'prefilter' ? 1 : 0));
    this.newlineSensitive = Uint8Array.from(plan, (p) => (p.features?.newlineSensitive && p.js !== null ? 1 : 0));
    this.fallback = plan.filter((p) => p.cls === 'fallback').map((p) => p.index);
  }

  static async create(kb: KnowledgeBase, options: MatcherOptions = {}, native: NativeBinding = loadNative()): Promise<Matcher> {
    const built = await buildDatabase(native, kb.records, {
      ignoreCase: options.ignoreCase ?? true,
      cacheDir: options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir,
      portable: options.portable ?? false,
      prebuiltDirs: options.prebuiltDirs ?? defaultPrebuiltDirs(),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    const scanner = built.db ? new native.Scanner(built.db) : null;
    return new Matcher(built.plan, scanner, {
      patterns: summarize(built.plan),
      databaseBytes: built.db?.size() ?? 0,
      fromCache: built.fromCache,
      buildSeconds: built.seconds,
      hyperscanVersion: native.version,
    });
  }

  private regex(index: number): RegExp | null {
    let re = this.exact[index];
    if (re === undefined) {
      const p = this.plan[index]!;
      re = p.js !== null && p.cls !== 'rejected' ? new RegExp(p.js, p.jsFlags) : null;
      this.exact[index] = re;
    }
    return re;
  }

  /** The exact engine's match span of one record in `text`, or null (used for ranking). */
  span(index: number, text: string): [number, number] | null {
    const re = this.regex(index);
    if (!re) return null;
    re.lastIndex = 0;
    const m = re.exec(text);
    return m ? [m.index, m.index + m[0].length] : null;
  }

  /** Length of that span, 0 when there is none (the ranking's tie-break). */
  spanLength(index: number, text: string): number {
    const s = this.span(index, text);
    return s ? s[1] - s[0] : 0;
  }

  private ensureCapacity(bytes: number, messages: number): void {
    if (this.data.length < bytes) this.data = Buffer.allocUnsafe(Math.max(bytes, this.data.length * 2));
    if (this.offsets.length < messages + 1) this.offsets = new Uint32Array(Math.max(messages + 1, this.offsets.length * 2));
  }

  /**
   * Matched record indexes per message, ascending. Strings are encoded as UTF-8; Buffers must be valid
   * UTF-8 (the caller validates at the edge: invalid bytes would give wrong answers in UTF-8 mode).
   */
  scan(messages: readonly (string | Buffer)[]): (readonly number[])[] {
    const n = messages.length;
    const results: (readonly number[])[] = new Array<readonly number[]>(n).fill(NO_MATCHES);
    if (n === 0) return results;
    let upper = 0;
    for (const m of messages) upper += typeof m === 'string' ? m.length * 3 : m.length;
    this.ensureCapacity(upper, n);
    const data = this.data;
    const offsets = this.offsets;
    let pos = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = pos;
      const m = messages[i]!;
      pos += typeof m === 'string' ? data.write(m, pos, 'utf8') : m.copy(data, pos);
    }
    offsets[n] = pos;
    if (this.scanner) {
      let pairs: Uint32Array;
      try {
        pairs = this.scanner.scan(data.subarray(0, pos), offsets.subarray(0, n + 1));
      } catch (err) {
        throw new LogsiftError(ErrorCodes.SCAN_FAILED, `Hyperscan scan failed: ${(err as Error).message}`, { cause: err, retriable: false });
      }
      this.collect(pairs, messages, results);
    }
    if (this.fallback.length > 0) this.runFallback(messages, results);
    return results;
  }

  private textOf(messages: readonly (string | Buffer)[], i: number): string {
    const m = messages[i]!;
    return typeof m === 'string' ? m : m.toString('utf8');
  }

  private collect(pairs: Uint32Array, messages: readonly (string | Buffer)[], results: (readonly number[])[]): void {
    let current = -1;
    let list: number[] = [];
    let multiline = -1; // -1 unknown, 0 no, 1 yes, for the current message
    let text: string | null = null;
    for (let k = 0; k < pairs.length; k += 2) {
      const msg = pairs[k]!;
      const pat = pairs[k + 1]!;
      if (msg !== current) {
        if (current >= 0 && list.length > 0) results[current] = list.sort((a, b) => a - b);
        current = msg;
        list = [];
        multiline = -1;
        text = null;
      }
      let keep = true;
      if (this.needsConfirm[pat] === 1 || this.newlineSensitive[pat] === 1) {
        if (this.needsConfirm[pat] !== 1) {
          if (multiline < 0) multiline = this.data.subarray(this.offsets[msg]!, this.offsets[msg + 1]!).includes(NEWLINE) ? 1 : 0;
        }
        if (this.needsConfirm[pat] === 1 || multiline === 1) {
          text ??= this.textOf(messages, msg);
          const re = this.regex(pat)!;
          re.lastIndex = 0;
          keep = re.test(text);
        }
      }
      if (keep) list.push(pat);
    }
    if (current >= 0 && list.length > 0) results[current] = list.sort((a, b) => a - b);
  }

  private runFallback(messages: readonly (string | Buffer)[], results: (readonly number[])[]): void {
    for (let i = 0; i < messages.length; i++) {
      const text = this.textOf(messages, i);
      let added: number[] | null = null;
      for (const pat of this.fallback) {
        const re = this.regex(pat)!;
        re.lastIndex = 0;
        if (re.test(text)) (added ??= [...results[i]!]).push(pat);
      }
      if (added) results[i] = added.sort((a, b) => a - b);
    }
  }
}
