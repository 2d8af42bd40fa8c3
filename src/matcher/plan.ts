/**
 * Puts every record into exactly one compile class, with the reason when it is not `native`:
 *
 * - native:    Hyperscan matches it exactly (after translation from Python syntax).
 * - prefilter: Hyperscan compiles an approximation (HS_FLAG_PREFILTER, a superset); the exact
 *              engine confirms each candidate.
 * - fallback:  Hyperscan cannot take it at all; the exact engine runs it on every message.
 * - rejected:  invalid under Python `re`, matches the empty string, or no engine can express it.
 */
import type { KbRecord } from '../kb/index.js';
import { HsFlags, type NativeBinding, type NativePattern } from './native.js';
import { PyRegexSyntaxError, translatePyRegex, type PyRegexFeatures } from './pyregex.js';

/** What planning and the database cache key read of a record. */
export type PatternSource = Pick<KbRecord, 'id' | 'regex'>;

export type CompileClass = 'native' | 'prefilter' | 'fallback' | 'rejected';

export interface PlannedPattern {
  /** Index of the record in the knowledge base; also the Hyperscan pattern id. */
  index: number;
  id: string;
  cls: CompileClass;
  reason?: string;
  /** Hyperscan expression and flags (native and prefilter only). */
  expression?: string;
  flags?: number;
  /**
   * Flags in the ASCII database when they differ from `flags` (UTF8|UCP dropped). Such a pattern is
   * exact there only for messages without non-ASCII bytes and without \x1c–\x1f (Python's Unicode
   * `\s` has them, Hyperscan's ASCII `\s` does not); the Unicode database serves the other messages.
   */
  asciiFlags?: number;
  /** Exact-engine source; null when JavaScript cannot express the pattern. */
  js: string | null;
  jsFlags: string;
  features?: PyRegexFeatures;
}

export interface PlanOptions {
  /** Default case-insensitivity for patterns without their own `(?i)`. Default true. */
  ignoreCase: boolean;
}

/**
 * DOTALL is always on: it makes compiles ~2× and scans ~1.2× faster, and for single-line messages it
 * changes nothing. A record whose `.` must not cross a newline is confirmed on multi-line messages.
 * UTF8|UCP only where bytes and code points can disagree (see pyregex `unicodeSensitive`).
 */
export function hyperscanFlags(features: PyRegexFeatures, ignoreCase: boolean, multiline: boolean): number {
  let flags = HsFlags.DOTALL | HsFlags.SINGLEMATCH;
  if (ignoreCase) flags |= HsFlags.CASELESS;
  if (multiline) flags |= HsFlags.MULTILINE;
  if (features.unicodeSensitive) flags |= HsFlags.UTF8 | HsFlags.UCP;
  return flags;
}

const EMPTY_MATCH = /empty/i;

export async function planPatterns(
  native: NativeBinding,
  records: readonly PatternSource[],
  options: PlanOptions,
): Promise<PlannedPattern[]> {
  const planned: PlannedPattern[] = [];
  const candidates: { plan: PlannedPattern; pattern: NativePattern }[] = [];
  records.forEach((record, index) => {
    try {
      const t = translatePyRegex(record.regex, options.ignoreCase);
      const plan: PlannedPattern = {
        index,
        id: record.id,
        cls: 'native',
        expression: t.hyperscan,
        flags: hyperscanFlags(t.features, t.ignoreCase, t.multiline),
        js: t.js,
        jsFlags: t.jsFlags,
        features: t.features,
      };
      if (t.js === null && t.jsUnsupported) plan.reason = `no exact JavaScript form (${t.jsUnsupported})`;
      planned.push(plan);
      candidates.push({ plan, pattern: { expression: plan.expression!, flags: plan.flags!, id: index } });
    } catch (err) {
      const reason = err instanceof PyRegexSyntaxError ? `invalid Python regex: ${err.message}` : `cannot translate regex: ${(err as Error).message}`;
      planned.push({ index, id: record.id, cls: 'rejected', reason, js: null, jsFlags: '' });
    }
  });

  const first = await native.check(candidates.map((c) => c.pattern));
  const retry: { plan: PlannedPattern; pattern: NativePattern; error: string }[] = [];
  first.forEach((res, i) => {
    const c = candidates[i]!;
    if (res.ok && res.minWidth !== 0) return;
    // Python finds an empty match in every string, so such a record would match every message.
    if ((res.ok && res.minWidth === 0) || EMPTY_MATCH.test(res.error ?? '')) {
      c.plan.cls = 'rejected';
      c.plan.reason = 'matches the empty string, so it would match every message';
      return;
    }
    retry.push({ ...c, pattern: { ...c.pattern, flags: c.pattern.flags | HsFlags.PREFILTER }, error: res.error ?? 'unknown error' });
  });
  const second = retry.length > 0 ? await native.check(retry.map((r) => r.pattern)) : [];
  second.forEach((res, i) => {
    const r = retry[i]!;
    if (r.plan.js === null) {
      r.plan.cls = 'rejected';
      r.plan.reason = `Hyperscan: ${r.error}; ${r.plan.reason ?? 'no exact engine'}`;
    } else if (res.ok && res.minWidth !== 0) {
      r.plan.cls = 'prefilter';
      r.plan.flags = r.pattern.flags;
      r.plan.reason = `Hyperscan: ${r.error}; candidates confirmed by the exact engine`;
    } else {
      r.plan.cls = 'fallback';
      const why = res.ok ? 'its prefilter form matches the empty string' : `also in prefilter mode: ${res.error ?? 'unknown'}`;
      r.plan.reason = `Hyperscan: ${r.error} (${why}); exact engine on every message`;
      delete r.plan.expression;
      delete r.plan.flags;
    }
  });
  await planAsciiFlags(native, planned);
  return planned;
}

const UNICODE_FLAGS = HsFlags.UTF8 | HsFlags.UCP;

/**
 * Patterns compiled with UTF8|UCP only for Python's Unicode `\w \d \s \b` or a bounded `.` answer
 * the same in ASCII mode on ASCII text. Those with non-ASCII literals keep UTF8|UCP everywhere: a
 * literal such as U+212A (Kelvin) matches ASCII `k` case-insensitively, and they compile quickly.
 */
async function planAsciiFlags(native: NativeBinding, planned: PlannedPattern[]): Promise<void> {
  const candidates = planned.filter(
    (p) => (p.cls === 'native' || p.cls === 'prefilter') && (p.flags! & UNICODE_FLAGS) !== 0 && !p.features!.nonAscii,
  );
  if (candidates.length === 0) return;
  const checked = await native.check(candidates.map((p) => ({ expression: p.expression!, flags: p.flags! & ~UNICODE_FLAGS, id: p.index })));
  checked.forEach((res, i) => {
    if (res.ok && res.minWidth !== 0) candidates[i]!.asciiFlags = candidates[i]!.flags! & ~UNICODE_FLAGS;
  });
}

/** True for a pattern that the ASCII database serves only on ASCII messages (see `asciiFlags`). */
export function unicodeOnly(p: PlannedPattern): boolean {
  return p.asciiFlags !== undefined && (p.cls === 'native' || p.cls === 'prefilter');
}

export function demoteAfterCompileFailure(plan: PlannedPattern, error: string): void {
  if (plan.js === null) {
    plan.cls = 'rejected';
    plan.reason = `Hyperscan compile failed: ${error}; no exact engine`;
  } else {
    plan.cls = 'fallback';
    plan.reason = `Hyperscan compile failed: ${error}; exact engine on every message`;
  }
  delete plan.expression;
  delete plan.flags;
  delete plan.asciiFlags;
}

export function summarize(plan: readonly PlannedPattern[]): Record<CompileClass, number> {
  const counts: Record<CompileClass, number> = { native: 0, prefilter: 0, fallback: 0, rejected: 0 };
  for (const p of plan) counts[p.cls]++;
  return counts;
}

/** Records the exact engine runs on messages (confirming candidates, or on every message): the ReDoS lint's targets. */
export function exactEngineRuns(plan: PlannedPattern): boolean {
  return plan.js !== null && (plan.cls === 'prefilter' || plan.cls === 'fallback');
}
