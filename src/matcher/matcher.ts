/**
 * Scans batches of messages against the compiled knowledge base: one native call per batch, one
 * hs_scan per message, then the exact engine only where Hyperscan's answer is a superset:
 * prefilter candidates, and `.` patterns on multi-line messages (the database is DOTALL).
 *
 * The ASCII database answers every pattern for ASCII messages. A message with non-ASCII bytes
 * takes the `unicodeOnly` patterns from the Unicode database instead, or, until that is ready (it
 * may compile in the background), from the exact engine: exact at every moment. A message with
 * \x1c–\x1f takes every Unicode-sensitive pattern from the exact engine: Python's `\s` matches
 * those separators, Hyperscan's `\s` does not, in ASCII or in UCP mode.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import { buildDatabase, type BuildEvent, type UnicodeMode, type UnicodePart } from './database.js';
import { loadNative, type NativeBinding, type NativeScanner } from './native.js';
import { summarize, unicodeOnly, type CompileClass, type PlannedPattern } from './plan.js';

export interface MatcherOptions {
  /** Case-insensitive unless a pattern says otherwise (deadends.dev semantics). Default true. */
  ignoreCase?: boolean;
  /** Compiled-database cache directory; null disables it. Default: `defaultCacheDir()`. */
  cacheDir?: string | null;
  onEvent?: (event: BuildEvent) => void;
  /**
   * The Unicode database: compiled in the background while ASCII messages are served (default),
   * awaited before `create` returns ('wait'), or only loaded from the cache ('cache-only': the
   * caller attaches it later with `attachUnicode`, e.g. a worker thread whose parent compiles it).
   */
  unicode?: UnicodeMode;
  /** Compiles at once. Default: the available cores. */
  parallelism?: number;
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
/** Messages the ASCII database cannot answer alone for `unicodeOnly` patterns. */
// eslint-disable-next-line no-control-regex -- the separators are the point
const NEEDS_UNICODE = /[\x1c-\x1f\u0080-\uffff]/;
/** Messages that no Hyperscan database answers like Python for `\s` (see the top comment). */
// eslint-disable-next-line no-control-regex
const SEPARATOR = /[\x1c-\x1f]/;
const DROP_UNICODE = 1;
const DROP_SEPARATOR = 2;

export interface SerializedUnicodePart {
  ids: number[];
  bytes: Buffer;
}

/** `$LOGSIFT_CACHE_DIR`, else `$XDG_CACHE_HOME/logsift`, else `~/.cache/logsift`. */
export function defaultCacheDir(): string {
  const env = process.env;
  return env['LOGSIFT_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'logsift');
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
  /** 1: the ASCII database serves this pattern only on messages without NEEDS_UNICODE characters. */
  private readonly unicodeOnly: Uint8Array;
  /** 1: a Unicode part holds this pattern; the others of `unicodeOnly` go to the exact engine. */
  private readonly covered: Uint8Array;
  private uncovered: number[];
  /** Bit 1: `unicodeOnly`; bit 2: the exact engine answers it for messages with \x1c–\x1f. */
  private readonly patternMask: Uint8Array;
  private readonly separatorPatterns: number[];
  private unicodeParts: { scanner: NativeScanner; part: UnicodePart }[] = [];
  private data = Buffer.allocUnsafe(1 << 16);
  private offsets = new Uint32Array(1025);
  private subData = Buffer.allocUnsafe(1 << 12);
  private subOffsets = new Uint32Array(65);
  /** Resolves once the Unicode database is attached (at once when it is not needed or was cached). */
  readonly unicodeReady: Promise<void>;

  private constructor(plan: PlannedPattern[], scanner: NativeScanner | null, info: MatcherInfo, private readonly native: NativeBinding) {
    this.plan = plan;
    this.scanner = scanner;
    this.info = info;
    this.exact = new Array<RegExp | null | undefined>(plan.length);
    this.needsConfirm = Uint8Array.from(plan, (p) => (p.cls === 'prefilter' ? 1 : 0));
    this.newlineSensitive = Uint8Array.from(plan, (p) => (p.features?.newlineSensitive && p.js !== null ? 1 : 0));
    this.fallback = plan.filter((p) => p.cls === 'fallback').map((p) => p.index);
    this.unicodeOnly = Uint8Array.from(plan, (p) => (unicodeOnly(p) ? 1 : 0));
    this.covered = new Uint8Array(plan.length);
    this.uncovered = plan.filter(unicodeOnly).map((p) => p.index);
    const separatorExact = (p: PlannedPattern): boolean => (p.cls === 'native' || p.cls === 'prefilter') && p.features!.unicodeSensitive && p.js !== null;
    this.patternMask = Uint8Array.from(plan, (p) => (unicodeOnly(p) ? DROP_UNICODE : 0) | (separatorExact(p) ? DROP_SEPARATOR : 0));
    this.separatorPatterns = plan.filter(separatorExact).map((p) => p.index);
    this.unicodeReady = Promise.resolve();
  }

  static async create(kb: KnowledgeBase, options: MatcherOptions = {}, native: NativeBinding = loadNative()): Promise<Matcher> {
    const built = await buildDatabase(native, kb.records, {
      ignoreCase: options.ignoreCase ?? true,
      cacheDir: options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.unicode ? { unicode: options.unicode } : {}),
      ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    });
    const scanner = built.db ? new native.Scanner(built.db) : null;
    const m = new Matcher(
      built.plan,
      scanner,
      {
        patterns: summarize(built.plan),
        databaseBytes: built.db?.size() ?? 0,
        fromCache: built.fromCache,
        buildSeconds: built.seconds,
        hyperscanVersion: native.version,
      },
      native,
    );
    if (built.unicode) m.attachParts(built.unicode);
    const pending = built.unicodePending;
    if (pending) {
      (m as { unicodeReady: Promise<void> }).unicodeReady = pending.then((parts) => {
        if (parts) m.attachParts(parts);
      });
    }
    return m;
  }

  /** True when every `unicodeOnly` pattern is served by the Unicode database (no exact-engine path). */
  get unicodeComplete(): boolean {
    return this.uncovered.length === 0;
  }

  /** The Unicode parts, serialized, to hand to another thread's matcher (`attachUnicode`). */
  exportUnicode(): SerializedUnicodePart[] {
    return this.unicodeParts.map(({ part }) => ({ ids: [...part.ids], bytes: part.db.serialize() }));
  }

  /** Attaches Unicode parts built elsewhere (same KB and options: the ids index this plan). */
  attachUnicode(parts: readonly SerializedUnicodePart[]): void {
    this.attachParts(parts.map((p) => ({ ids: p.ids, db: this.native.deserialize(p.bytes) })));
  }

  private attachParts(parts: readonly UnicodePart[]): void {
    for (const part of parts) {
      // A pattern demoted by the ASCII compile after this part was queued is no longer unicodeOnly.
      const ids = part.ids.filter((i) => this.unicodeOnly[i] === 1 && this.covered[i] === 0);
      if (ids.length === 0) continue;
      for (const i of ids) this.covered[i] = 1;
      this.unicodeParts.push({ scanner: new this.native.Scanner(part.db), part: { ids, db: part.db } });
    }
    this.uncovered = this.uncovered.filter((i) => this.covered[i] === 0);
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
    let lists: (number[] | undefined)[] | null = null;
    let unicodeMessages: number[] | null = null;
    if (this.uncovered.length > 0 || this.unicodeParts.length > 0 || this.separatorPatterns.length > 0) {
      for (let i = 0; i < n; i++) {
        const m = messages[i]!;
        if (typeof m === 'string' ? NEEDS_UNICODE.test(m) : needsUnicodeBytes(m)) (unicodeMessages ??= []).push(i);
      }
    }
    let separated: Uint8Array | null = null;
    if (unicodeMessages) {
      for (const i of unicodeMessages) if (this.hasSeparator(messages, i)) (separated ??= new Uint8Array(n))[i] = 1;
    }
    if (this.scanner) {
      lists = new Array<number[] | undefined>(n);
      const pairs = this.nativeScan(this.scanner, data.subarray(0, pos), offsets.subarray(0, n + 1));
      let drop: Uint8Array | null = null;
      if (unicodeMessages) {
        drop = new Uint8Array(n);
        for (const i of unicodeMessages) drop[i] = separated?.[i] === 1 ? DROP_UNICODE | DROP_SEPARATOR : DROP_UNICODE;
      }
      this.collect(pairs, messages, lists, null, drop);
    }
    if (unicodeMessages) {
      lists ??= new Array<number[] | undefined>(n);
      this.unicodePass(unicodeMessages, messages, lists, separated);
    }
    if (lists) {
      for (let i = 0; i < n; i++) {
        const l = lists[i];
        if (l !== undefined && l.length > 0) results[i] = l.sort((a, b) => a - b);
      }
    }
    if (this.fallback.length > 0) this.runFallback(messages, results);
    return results;
  }

  private nativeScan(scanner: NativeScanner, data: Buffer, offsets: Uint32Array): Uint32Array {
    try {
      return scanner.scan(data, offsets);
    } catch (err) {
      throw new LogsiftError(ErrorCodes.SCAN_FAILED, `Hyperscan scan failed: ${(err as Error).message}`, { cause: err, retriable: false });
    }
  }

  private hasSeparator(messages: readonly (string | Buffer)[], i: number): boolean {
    const m = messages[i]!;
    return typeof m === 'string' ? SEPARATOR.test(m) : this.data.subarray(this.offsets[i]!, this.offsets[i + 1]!).some((c) => c >= 0x1c && c <= 0x1f);
  }

  /** `unicodeOnly` patterns for the messages that need them: the Unicode parts, then the exact engine. */
  private unicodePass(indexes: readonly number[], messages: readonly (string | Buffer)[], lists: (number[] | undefined)[], separator: Uint8Array | null): void {
    if (separator) for (let i = 0; i < separator.length; i++) if (separator[i] === 1) separator[i] = DROP_SEPARATOR;
    if (this.unicodeParts.length > 0) {
      let bytes = 0;
      for (const i of indexes) bytes += this.offsets[i + 1]! - this.offsets[i]!;
      if (this.subData.length < bytes) this.subData = Buffer.allocUnsafe(Math.max(bytes, this.subData.length * 2));
      if (this.subOffsets.length < indexes.length + 1) this.subOffsets = new Uint32Array(Math.max(indexes.length + 1, this.subOffsets.length * 2));
      let pos = 0;
      indexes.forEach((i, k) => {
        this.subOffsets[k] = pos;
        pos += this.data.copy(this.subData, pos, this.offsets[i]!, this.offsets[i + 1]!);
      });
      this.subOffsets[indexes.length] = pos;
      const map = Uint32Array.from(indexes);
      for (const { scanner } of this.unicodeParts) {
        const pairs = this.nativeScan(scanner, this.subData.subarray(0, pos), this.subOffsets.subarray(0, indexes.length + 1));
        this.collect(pairs, messages, lists, map, separator);
      }
    }
    if (this.uncovered.length === 0 && !separator) return;
    for (const i of indexes) {
      const patterns = separator !== null && separator[i] !== 0 ? this.separatorPatterns : this.uncovered;
      if (patterns.length === 0) continue;
      const text = this.textOf(messages, i);
      for (const pat of patterns) {
        const re = this.regex(pat);
        if (!re) continue;
        re.lastIndex = 0;
        if (re.test(text)) (lists[i] ??= []).push(pat);
      }
    }
  }

  private textOf(messages: readonly (string | Buffer)[], i: number): string {
    const m = messages[i]!;
    return typeof m === 'string' ? m : m.toString('utf8');
  }

  /**
   * Appends each (message, pattern) pair that holds to its message's list, confirming where the
   * database answers a superset. `map` turns a sub-batch's message numbers into batch indexes;
   * for a message, `drop` holds the DROP_ bits of the patterns another pass serves.
   */
  private collect(
    pairs: Uint32Array,
    messages: readonly (string | Buffer)[],
    lists: (number[] | undefined)[],
    map: Uint32Array | null,
    drop: Uint8Array | null,
  ): void {
    let current = -1;
    let multiline = -1; // -1 unknown, 0 no, 1 yes, for the current message
    let text: string | null = null;
    for (let k = 0; k < pairs.length; k += 2) {
      const msg = map ? map[pairs[k]!]! : pairs[k]!;
      const pat = pairs[k + 1]!;
      if (msg !== current) {
        current = msg;
        multiline = -1;
        text = null;
      }
      if (drop !== null && (drop[msg]! & this.patternMask[pat]!) !== 0) continue;
      if (map !== null && this.covered[pat] !== 1) continue;
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
      if (keep) (lists[msg] ??= []).push(pat);
    }
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

function needsUnicodeBytes(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80 || (c >= 0x1c && c <= 0x1f)) return true;
  }
  return false;
}
