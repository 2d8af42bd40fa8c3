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
import { DEFAULT_EXACT_BUDGET_MS, ExactEngine, type ExactTask } from './exact-engine.js';
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
  /** Time budget of one message's exact-engine work (confirm, fallback; spans separately). Default 50 ms. */
  exactBudgetMs?: number;
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
  /** The exact engine: RegExps under a per-message time budget (see exact-engine.ts). */
  readonly exact: ExactEngine;
  private readonly needsConfirm: Uint8Array;
  private readonly newlineSensitive: Uint8Array;
  private readonly fallback: number[];
  private data = Buffer.allocUnsafe(1 << 16);
  private offsets = new Uint32Array(1025);

  private constructor(plan: PlannedPattern[], scanner: NativeScanner | null, info: MatcherInfo, exactBudgetMs: number) {
    this.plan = plan;
    this.scanner = scanner;
    this.info = info;
    this.exact = new ExactEngine(plan, exactBudgetMs);
    this.exact.prewarm();
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
    }, options.exactBudgetMs ?? DEFAULT_EXACT_BUDGET_MS);
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
    if (this.scanner) {
      let pairs: Uint32Array;
      try {
        pairs = this.scanner.scan(data.subarray(0, pos), offsets.subarray(0, n + 1));
      } catch (err) {
        throw new LogsiftError(ErrorCodes.SCAN_FAILED, `Hyperscan scan failed: ${(err as Error).message}`, { cause: err, retriable: false });
      }
      this.collect(pairs, results, pending);
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
      if (o.matched.length > 0) results[i] = [...results[i]!, ...o.matched].sort((a, b) => a - b);
    });
  }

  private textOf(messages: readonly (string | Buffer)[], i: number): string {
    const m = messages[i]!;
    return typeof m === 'string' ? m : m.toString('utf8');
  }

  private collect(pairs: Uint32Array, results: (readonly number[])[], pending: Map<number, number[]>): void {
    let current = -1;
    let list: number[] = [];
    let multiline = -1; // -1 unknown, 0 no, 1 yes, for the current message
    for (let k = 0; k < pairs.length; k += 2) {
      const msg = pairs[k]!;
      const pat = pairs[k + 1]!;
      if (msg !== current) {
        if (current >= 0 && list.length > 0) results[current] = list.sort((a, b) => a - b);
        current = msg;
        list = [];
        multiline = -1;
      }
      let certain = true;
      if (this.needsConfirm[pat] === 1) certain = false;
      else if (this.newlineSensitive[pat] === 1) {
        if (multiline < 0) multiline = this.data.subarray(this.offsets[msg]!, this.offsets[msg + 1]!).includes(NEWLINE) ? 1 : 0;
        certain = multiline === 0;
      }
      if (certain) list.push(pat);
      else {
        const p = pending.get(msg);
        if (p) p.push(pat);
        else pending.set(msg, [pat]);
      }
    }
    if (current >= 0 && list.length > 0) results[current] = list.sort((a, b) => a - b);
  }
}
