/**
 * Scans batches of messages against the compiled knowledge base: one native call per batch, one
 * hs_scan per message, then the exact engine only where Hyperscan's answer is a superset:
 * prefilter candidates, and `.` patterns on multi-line messages (the database is DOTALL) that no
 * single line of the message matches (see `lineConfirm`).
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
import { DEFAULT_EXACT_BUDGET_MS, ExactEngine, type ExactTask } from './exact-engine.js';
import { loadNative, type NativeBinding, type NativeScanner } from './native.js';
import { summarize, unicodeOnly, type CompileClass, type PlannedPattern } from './plan.js';
import { sortNumbers } from './small-sort.js';

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
  /** Time budget of one message's exact-engine work (confirm, fallback; spans separately). Default 50 ms. */
  exactBudgetMs?: number;
  /**
   * The Unicode database: compiled in the background while ASCII messages are served (default),
   * awaited before `create` returns ('wait'), or only loaded from the cache ('cache-only': the
   * caller attaches it later with `attachUnicode`, e.g. a worker thread whose parent compiles it).
   */
  unicode?: UnicodeMode;
  /** Compiles at once. Default: the available cores. */
  parallelism?: number;
  /**
   * Starts the exact engine's worker (and its stand-by) at creation, so that they boot while the
   * caller goes on (a daemon: the first message that needs them does not wait). false: they start at
   * their first use, as a one-shot command wants: a run that never needs them never boots two threads
   * (tens of milliseconds of CPU each, on the cores the start-up needs). Default true.
   */
  prewarm?: boolean;
}

/** A batch's matches, and the messages whose exact-engine work ran out of budget. */
export interface MatcherScan {
  /** Matched record indexes per message, ascending. A timed-out message keeps its certain matches only. */
  matches: (readonly number[])[];
  /** Message index → record indexes the exact engine could not decide within the budget. */
  timeouts: Map<number, readonly number[]>;
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
/** `newlineSensitive` values. */
const NEWLINE_EXACT = 1;
const NEWLINE_LINES = 2;
const NEWLINE_WITHIN = 3;
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

/** The cache directory an option names: undefined is the default one, null is no cache. */
export function resolveCacheDir(cacheDir: string | null | undefined): string | null {
  return cacheDir === undefined ? defaultCacheDir() : cacheDir;
}

/** `$LOGSIFT_KB_PREBUILT_DIR`, colon-separated; none by default. */
export function defaultPrebuiltDirs(): string[] {
  return (process.env['LOGSIFT_KB_PREBUILT_DIR'] ?? '').split(':').filter(Boolean);
}

export class Matcher {
  readonly plan: readonly PlannedPattern[];
  readonly info: MatcherInfo;
  private readonly scanner: NativeScanner | null;
  /** The exact engine: RegExps under a per-message time budget (see exact-engine.ts). */
  readonly exact: ExactEngine;
  private readonly needsConfirm: Uint8Array;
  /**
   * 0: `.` may cross a newline (or no `.`); NEWLINE_EXACT: the exact engine decides it on multi-line
   * messages; NEWLINE_LINES: a line of the message matching it decides yes (no whole-text anchor),
   * else the exact engine; NEWLINE_WITHIN: the lines decide yes or no (nothing in it matches `\n`).
   */
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
  /** `lineConfirm`'s sub-batch: the lines, their offsets, and the message of each. */
  private lineData = Buffer.allocUnsafe(1 << 12);
  private lineOffsets = new Uint32Array(65);
  private lineOwner = new Uint32Array(64);
  /** Resolves once the Unicode database is attached (at once when it is not needed or was cached). */
  readonly unicodeReady: Promise<void>;

  private constructor(
    plan: PlannedPattern[],
    scanner: NativeScanner | null,
    info: MatcherInfo,
    private readonly native: NativeBinding,
    exactBudgetMs: number,
    prewarm: boolean,
  ) {
    this.plan = plan;
    this.scanner = scanner;
    this.info = info;
    this.exact = new ExactEngine(plan, exactBudgetMs);
    if (prewarm) this.exact.prewarm();
    this.needsConfirm = Uint8Array.from(plan, (p) => (p.cls === 'prefilter' ? 1 : 0));
    this.newlineSensitive = Uint8Array.from(plan, (p) =>
      p.features?.newlineSensitive && p.js !== null ? newlineClass(p) : 0,
    );
    this.fallback = plan.filter((p) => p.cls === 'fallback').map((p) => p.index);
    this.unicodeOnly = Uint8Array.from(plan, (p) => (unicodeOnly(p) ? 1 : 0));
    this.covered = new Uint8Array(plan.length);
    // Only patterns with an exact form can be answered by the exact engine meanwhile.
    this.uncovered = plan.filter((p) => unicodeOnly(p) && this.exact.hasExactForm(p.index)).map((p) => p.index);
    const separatorExact = (p: PlannedPattern): boolean => (p.cls === 'native' || p.cls === 'prefilter') && p.features!.unicodeSensitive && p.js !== null;
    this.patternMask = Uint8Array.from(plan, (p) => (unicodeOnly(p) ? DROP_UNICODE : 0) | (separatorExact(p) ? DROP_SEPARATOR : 0));
    this.separatorPatterns = plan.filter(separatorExact).map((p) => p.index);
    this.unicodeReady = Promise.resolve();
  }

  static async create(kb: KnowledgeBase, options: MatcherOptions = {}, native: NativeBinding = loadNative()): Promise<Matcher> {
    const built = await buildDatabase(native, kb.heads, {
      ignoreCase: options.ignoreCase ?? true,
      cacheDir: resolveCacheDir(options.cacheDir),
      portable: options.portable ?? false,
      prebuiltDirs: options.prebuiltDirs ?? defaultPrebuiltDirs(),
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
      options.exactBudgetMs ?? DEFAULT_EXACT_BUDGET_MS,
      options.prewarm ?? true,
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

  /**
   * The exact engine's match span of one record in `text`, or null (used for ranking). Throws
   * ExactBudgetError (LOGSIFT_CONFIRM_TIMEOUT) when the work passes `deadline` (performance.now() ms).
   */
  span(index: number, text: string, deadline?: number): [number, number] | null {
    return this.exact.span(index, text, deadline);
  }

  /** Length of that span, 0 when there is none (the ranking's tie-break). */
  spanLength(index: number, text: string, deadline?: number): number {
    const s = this.span(index, text, deadline);
    return s ? s[1] - s[0] : 0;
  }

  /** `spanLength` of several records on one text, in one exact-engine round trip. */
  spanLengths(indexes: readonly number[], text: string, deadline?: number): number[] {
    return this.exact.spans(indexes, text, deadline).map((s) => (s ? s[1] - s[0] : 0));
  }

  /** Stops the exact engine's worker (a later scan starts a new one). */
  close(): void {
    this.exact.close();
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
    return this.scanChecked(messages).matches;
  }

  /** `scan`, and which messages ran out of the exact engine's budget (synchronous, bounded time). */
  scanChecked(messages: readonly (string | Buffer)[]): MatcherScan {
    const n = messages.length;
    const results: (readonly number[])[] = new Array<readonly number[]>(n).fill(NO_MATCHES);
    const timeouts = new Map<number, readonly number[]>();
    if (n === 0) return { matches: results, timeouts };
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
    // Candidates Hyperscan cannot decide alone, per message: confirmed by the exact engine.
    const pending = new Map<number, number[]>();
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
      const byLines = new Map<number, number[]>();
      this.collect(pairs, lists, pending, null, drop, byLines);
      if (byLines.size > 0) this.lineConfirm(this.scanner, byLines, lists, pending);
    }
    if (unicodeMessages) {
      lists ??= new Array<number[] | undefined>(n);
      this.unicodePass(unicodeMessages, lists, pending, separated);
    }
    if (lists) {
      for (let i = 0; i < n; i++) {
        const l = lists[i];
        if (l !== undefined && l.length > 0) results[i] = sortNumbers(l);
      }
    }
    if (this.fallback.length > 0) {
      for (let i = 0; i < n; i++) {
        const list = pending.get(i);
        if (list) list.push(...this.fallback);
        else pending.set(i, [...this.fallback]);
      }
    }
    if (pending.size > 0) this.confirm(messages, results, pending, timeouts);
    return { matches: results, timeouts };
  }

  /** Runs the exact engine on the undecided (message, record) pairs and merges its answers. */
  private confirm(
    messages: readonly (string | Buffer)[],
    results: (readonly number[])[],
    pending: Map<number, number[]>,
    timeouts: Map<number, readonly number[]>,
  ): void {
    const order = [...pending.keys()];
    const tasks: ExactTask[] = order.map((i) => ({ text: this.textOf(messages, i), patterns: pending.get(i)! }));
    const outcomes = this.exact.test(tasks);
    order.forEach((i, k) => {
      const o = outcomes[k]!;
      if (o.undecided) timeouts.set(i, o.undecided);
      if (o.matched.length > 0) results[i] = sortNumbers([...results[i]!, ...o.matched]);
    });
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

  /**
   * Decides `.` patterns (NEWLINE_LINES, NEWLINE_WITHIN) on multi-line messages from their lines, in
   * one native call of `scanner` (the ASCII database, or a Unicode part for the patterns it serves):
   * a pattern that matches one line of a message matches the message — its match is the same text
   * with the same neighbours (a line's edges are `\n`, which `\b`, `\B` and MULTILINE anchors read as
   * the text's ends; whole-text anchors are NEWLINE_EXACT) — and on a line, which has no `\n` for
   * DOTALL to change, the database is exact. What no line matches may still match across lines (`\s`,
   * `[^x]`): the exact engine decides those, unless nothing in the pattern matches `\n`
   * (NEWLINE_WITHIN): then every match lies within a line, and no line matching means no match.
   * `check` holds each message's candidates, which `collect` has already passed through the
   * message's DROP_ bits: `scanner` is exact for each of them on this message's bytes.
   */
  private lineConfirm(scanner: NativeScanner, check: Map<number, number[]>, lists: (number[] | undefined)[], pending: Map<number, number[]>): void {
    let bytes = 0;
    for (const msg of check.keys()) bytes += this.offsets[msg + 1]! - this.offsets[msg]!;
    if (this.lineData.length < bytes) this.lineData = Buffer.allocUnsafe(Math.max(bytes, this.lineData.length * 2));
    let pos = 0;
    let lines = 0;
    const data = this.data;
    for (const msg of check.keys()) {
      const end = this.offsets[msg + 1]!;
      let from = this.offsets[msg]!;
      for (let to = from; to <= end; to++) {
        if (to < end && data[to] !== NEWLINE) continue;
        if (to > from) {
          if (this.lineOffsets.length < lines + 2) this.lineOffsets = growU32(this.lineOffsets, lines + 2);
          if (this.lineOwner.length < lines + 1) this.lineOwner = growU32(this.lineOwner, lines + 1);
          this.lineOffsets[lines] = pos;
          this.lineOwner[lines++] = msg;
          pos += data.copy(this.lineData, pos, from, to);
        }
        from = to + 1;
      }
    }
    this.lineOffsets[lines] = pos;
    if (lines > 0) {
      const pairs = this.nativeScan(scanner, this.lineData.subarray(0, pos), this.lineOffsets.subarray(0, lines + 1));
      for (let k = 0; k < pairs.length; k += 2) {
        const msg = this.lineOwner[pairs[k]!]!;
        const candidates = check.get(msg)!;
        const at = candidates.indexOf(pairs[k + 1]!);
        if (at < 0) continue;
        (lists[msg] ??= []).push(candidates[at]!);
        candidates[at] = -1;
      }
    }
    for (const [msg, candidates] of check) {
      for (const pat of candidates) {
        if (pat < 0 || this.newlineSensitive[pat] === NEWLINE_WITHIN) continue;
        const p = pending.get(msg);
        if (p) p.push(pat);
        else pending.set(msg, [pat]);
      }
    }
  }

  /** `unicodeOnly` patterns for the messages that need them: the Unicode parts, then the exact engine. */
  private unicodePass(indexes: readonly number[], lists: (number[] | undefined)[], pending: Map<number, number[]>, separator: Uint8Array | null): void {
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
        const byLines = new Map<number, number[]>();
        this.collect(pairs, lists, pending, map, separator, byLines);
        // A Unicode part is exact on a line as the ASCII database is on an ASCII one.
        if (byLines.size > 0) this.lineConfirm(scanner, byLines, lists, pending);
      }
    }
    if (this.uncovered.length === 0 && !separator) return;
    for (const i of indexes) {
      const patterns = separator !== null && separator[i] !== 0 ? this.separatorPatterns : this.uncovered;
      if (patterns.length === 0) continue;
      const list = pending.get(i);
      if (list) list.push(...patterns);
      else pending.set(i, [...patterns]);
    }
  }

  private textOf(messages: readonly (string | Buffer)[], i: number): string {
    const m = messages[i]!;
    return typeof m === 'string' ? m : m.toString('utf8');
  }

  /**
   * Appends each certain (message, pattern) pair to its message's list, and each pair where the
   * database answers a superset to `pending` (the exact engine decides), or, for a NEWLINE_LINES
   * pattern on a multi-line message, to `byLines` (`lineConfirm` decides). `map` turns a
   * sub-batch's message numbers into batch indexes; for a message, `drop` holds the DROP_ bits of the
   * patterns another pass serves.
   */
  private collect(
    pairs: Uint32Array,
    lists: (number[] | undefined)[],
    pending: Map<number, number[]>,
    map: Uint32Array | null,
    drop: Uint8Array | null,
    byLines: Map<number, number[]>,
  ): void {
    let current = -1;
    let multiline = -1; // -1 unknown, 0 no, 1 yes, for the current message
    for (let k = 0; k < pairs.length; k += 2) {
      const msg = map ? map[pairs[k]!]! : pairs[k]!;
      const pat = pairs[k + 1]!;
      if (msg !== current) {
        current = msg;
        multiline = -1;
      }
      if (drop !== null && (drop[msg]! & this.patternMask[pat]!) !== 0) continue;
      if (map !== null && this.covered[pat] !== 1) continue;
      let certain = true;
      let target = pending;
      if (this.needsConfirm[pat] === 1) certain = false;
      else if (this.newlineSensitive[pat] !== 0) {
        if (multiline < 0) multiline = this.data.subarray(this.offsets[msg]!, this.offsets[msg + 1]!).includes(NEWLINE) ? 1 : 0;
        certain = multiline === 0;
        if (this.newlineSensitive[pat]! >= NEWLINE_LINES) target = byLines;
      }
      if (certain) (lists[msg] ??= []).push(pat);
      else {
        const p = target.get(msg);
        if (p) p.push(pat);
        else target.set(msg, [pat]);
      }
    }
  }
}

/** How a `.` record is decided on a multi-line message (the `newlineSensitive` values). */
function newlineClass(p: PlannedPattern): number {
  const f = p.features!;
  if (p.cls !== 'native' || f.anchored !== false) return NEWLINE_EXACT;
  return f.matchesNewline === false ? NEWLINE_WITHIN : NEWLINE_LINES;
}

function growU32(a: Uint32Array<ArrayBuffer>, atLeast: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(Math.max(atLeast, a.length * 2));
  b.set(a);
  return b;
}

function needsUnicodeBytes(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80 || (c >= 0x1c && c <= 0x1f)) return true;
  }
  return false;
}
