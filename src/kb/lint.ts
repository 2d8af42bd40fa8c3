/**
 * `logsift kb lint`: per-record findings with a severity and the evidence. Pure: it takes the
 * knowledge base, something that scans (the real Matcher), a ranking function, and the background
 * corpus as lines; no files, no clock, no logger.
 *
 * Findings (kind → severity):
 * - invalid, rejected, empty → error: as `kb check` reports them (schema errors; no engine can run
 *   the regex; the regex matches the empty string, so it would match every message).
 * - broad → warning: the regex matches more than `maxBackgroundRate` of the background lines
 *   (normal-operation logs), with the count, the rate and example lines.
 * - self-miss → warning: the record's own regex does not match its signature.
 * - duplicate → warning: the same regex (byte for byte), or the same signature (case and runs of
 *   whitespace ignored), under other ids.
 * - shadowed → warning: over the corpus C = background lines ∪ every record's signature, record B
 *   matches at least one text of C, and there is a record A such that on every text of C that B
 *   matches, A matches too and A ranks above B (the ranking the enricher uses). B can then never be
 *   the primary on that corpus. Evidence: A, the number of texts, one example.
 * Extra findings (e.g. a ReDoS checker) are passed in and merged, so new checks plug in here.
 */
import type { LogsiftError } from '../errors.js';
import type { KnowledgeBase } from './knowledge-base.js';

export type LintSeverity = 'error' | 'warning' | 'info';
export type LintKind = 'invalid' | 'rejected' | 'empty' | 'broad' | 'self-miss' | 'duplicate' | 'shadowed' | (string & {});

export interface LintFinding {
  /** Record id; for invalid records, `file:line`. */
  id: string;
  kind: LintKind;
  severity: LintSeverity;
  message: string;
  evidence: Record<string, unknown>;
}

/** The part of the Matcher lint needs: its compile plan and a batch scan. */
export interface LintMatcher {
  readonly plan: readonly { index: number; id: string; cls: string; reason?: string }[];
  scan(texts: readonly string[]): readonly (readonly number[])[];
}

/** A checker beyond lint's own (e.g. ReDoS): per-record findings for a KB, merged via `extra`. */
export type LintCheck = (kb: KnowledgeBase) => readonly LintFinding[];

export interface LintOptions {
  /** A record matching more than this share of the background lines is broad. Default 0.01. */
  maxBackgroundRate?: number;
  /** Example lines kept per broad / shadowed record. Default 3. */
  examples?: number;
  /** Characters kept of each example line. Default 240. */
  exampleChars?: number;
}

export interface LintInput {
  kb: KnowledgeBase;
  matcher: LintMatcher;
  /** Background corpus: lines of normal-operation logs. May be empty (no broad, fewer shadowed). */
  background: readonly string[];
  /** Record indexes of `matches` on `text`, best first (the enricher's ranking). */
  rank: (text: string, matches: readonly number[]) => readonly number[];
  /** Records skipped as invalid at load time (`loadRecords(..., { allowInvalid: true })`). */
  invalid?: readonly LogsiftError[];
  /** Findings of other checkers (e.g. ReDoS), merged into the report. */
  extra?: readonly LintFinding[];
  options?: LintOptions;
}

export interface LintReport {
  kbVersion: string;
  records: number;
  backgroundLines: number;
  maxBackgroundRate: number;
  findings: LintFinding[];
  counts: Record<string, number>;
  errors: number;
  warnings: number;
}

export const DEFAULT_MAX_BACKGROUND_RATE = 0.01;
const BATCH = 2048;

function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

export interface BackgroundStats {
  lines: number;
  /** Matched background lines per record index. */
  counts: Uint32Array;
  examples: Map<number, string[]>;
}

/** Scans the background corpus once; `each` sees every line that matched something. */
export function scanBackground(
  matcher: LintMatcher,
  records: number,
  background: readonly string[],
  examples: number,
  each?: (text: string, matches: readonly number[]) => void,
): BackgroundStats {
  const counts = new Uint32Array(records);
  const ex = new Map<number, string[]>();
  for (let start = 0; start < background.length; start += BATCH) {
    const batch = background.slice(start, start + BATCH);
    const results = matcher.scan(batch);
    results.forEach((m, i) => {
      if (m.length === 0) return;
      for (const r of m) {
        counts[r]!++;
        let list = ex.get(r);
        if (!list) ex.set(r, (list = []));
        if (list.length < examples) list.push(batch[i]!);
      }
      each?.(batch[i]!, m);
    });
  }
  return { lines: background.length, counts, examples: ex };
}

/** Broad records: more than `maxRate` of the background lines matched. Used by lint and by the loader. */
export function broadFindings(kb: KnowledgeBase, stats: BackgroundStats, maxRate: number, exampleChars = 240): LintFinding[] {
  const out: LintFinding[] = [];
  if (stats.lines === 0) return out;
  stats.counts.forEach((n, i) => {
    const rate = n / stats.lines;
    if (rate <= maxRate) return;
    out.push({
      id: kb.records[i]!.id,
      kind: 'broad',
      severity: 'warning',
      message: `matches ${(100 * rate).toFixed(2)}% of the background lines (${n} of ${stats.lines}; limit ${(100 * maxRate).toFixed(2)}%)`,
      evidence: { matched_lines: n, background_lines: stats.lines, rate, examples: (stats.examples.get(i) ?? []).map((e) => clip(e, exampleChars)) },
    });
  });
  return out;
}

/** Per record: the records ranked above it on every corpus text it matched so far (null: no text yet). */
class ShadowTracker {
  private readonly above: (Set<number> | null)[];
  private readonly texts: Uint32Array;
  private readonly example: (string | undefined)[];

  constructor(records: number) {
    this.above = new Array<Set<number> | null>(records).fill(null);
    this.texts = new Uint32Array(records);
    this.example = new Array<string | undefined>(records);
  }

  observe(text: string, ranked: readonly number[]): void {
    ranked.forEach((b, pos) => {
      this.texts[b]!++;
      const prev = this.above[b];
      if (!prev) {
        this.above[b] = new Set(ranked.slice(0, pos));
        this.example[b] = text;
      } else if (prev.size > 0) {
        const here = new Set(ranked.slice(0, pos));
        for (const a of prev) if (!here.has(a)) prev.delete(a);
      }
    });
  }

  findings(kb: KnowledgeBase, exampleChars: number): LintFinding[] {
    const out: LintFinding[] = [];
    this.above.forEach((set, b) => {
      if (!set || set.size === 0) return;
      const by = [...set].map((a) => kb.records[a]!.id).sort();
      out.push({
        id: kb.records[b]!.id,
        kind: 'shadowed',
        severity: 'warning',
        message: `on all ${this.texts[b]} corpus text(s) it matches, ${by[0]}${by.length > 1 ? ` (and ${by.length - 1} more)` : ''} also matches and ranks above it`,
        evidence: { shadowed_by: by, texts: this.texts[b], example: clip(this.example[b] ?? '', exampleChars) },
      });
    });
    return out;
  }
}

function duplicateFindings(kb: KnowledgeBase): LintFinding[] {
  const out: LintFinding[] = [];
  const group = (key: (i: number) => string, what: 'regex' | 'signature'): void => {
    const groups = new Map<string, number[]>();
    kb.records.forEach((_, i) => {
      const k = key(i);
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    for (const members of groups.values()) {
      if (members.length < 2) continue;
      for (const i of members) {
        const others = members.filter((j) => j !== i).map((j) => kb.records[j]!.id);
        out.push({
          id: kb.records[i]!.id,
          kind: 'duplicate',
          severity: 'warning',
          message: `same ${what} as ${others.join(', ')}`,
          evidence: { same: what, ids: others, [what]: what === 'regex' ? kb.records[i]!.regex : kb.records[i]!.signature },
        });
      }
    }
  };
  group((i) => kb.records[i]!.regex, 'regex');
  group((i) => kb.records[i]!.signature.trim().toLowerCase().replace(/\s+/g, ' '), 'signature');
  return out;
}

const SEVERITY_ORDER: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

export function lintKnowledgeBase(input: LintInput): LintReport {
  const { kb, matcher } = input;
  const maxRate = input.options?.maxBackgroundRate ?? DEFAULT_MAX_BACKGROUND_RATE;
  const examples = input.options?.examples ?? 3;
  const exampleChars = input.options?.exampleChars ?? 240;
  const findings: LintFinding[] = [];

  for (const p of input.invalid ?? []) {
    findings.push({ id: p.location, kind: 'invalid', severity: 'error', message: p.message, evidence: { code: p.code, ...(p.field ? { field: p.field } : {}) } });
  }
  const rejected = new Set<number>();
  for (const p of matcher.plan) {
    if (p.cls !== 'rejected') continue;
    rejected.add(p.index);
    const empty = /empty string/.test(p.reason ?? '');
    findings.push({ id: p.id, kind: empty ? 'empty' : 'rejected', severity: 'error', message: p.reason ?? 'rejected', evidence: { regex: kb.records[p.index]!.regex } });
  }

  const shadow = new ShadowTracker(kb.size);
  const observe = (text: string, m: readonly number[]): void => shadow.observe(text, m.length === 1 ? m : input.rank(text, m));
  const stats = scanBackground(matcher, kb.size, input.background, examples, observe);
  findings.push(...broadFindings(kb, stats, maxRate, exampleChars));

  const signatures = kb.records.map((r) => r.signature);
  for (let start = 0; start < signatures.length; start += BATCH) {
    const results = matcher.scan(signatures.slice(start, start + BATCH));
    results.forEach((m, k) => {
      const i = start + k;
      if (m.length > 0) observe(signatures[i]!, m);
      if (rejected.has(i) || m.includes(i)) return;
      const r = kb.records[i]!;
      findings.push({ id: r.id, kind: 'self-miss', severity: 'warning', message: 'its regex does not match its own signature', evidence: { signature: clip(r.signature, exampleChars), regex: r.regex } });
    });
  }
  findings.push(...shadow.findings(kb, exampleChars));
  findings.push(...duplicateFindings(kb));
  findings.push(...(input.extra ?? []));

  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const counts: Record<string, number> = {};
  for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return {
    kbVersion: kb.version,
    records: kb.size,
    backgroundLines: stats.lines,
    maxBackgroundRate: maxRate,
    findings,
    counts,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/** Human-readable report: one line per finding, then the evidence indented, then a summary. */
export function formatLintText(report: LintReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(`${f.severity.padEnd(7)} ${f.kind.padEnd(9)} ${f.id}: ${f.message}`);
    const ex = f.evidence['examples'];
    if (Array.isArray(ex)) for (const e of ex) lines.push(`          e.g. ${String(e)}`);
    else if (typeof f.evidence['example'] === 'string') lines.push(`          e.g. ${f.evidence['example']}`);
    else if (f.kind === 'self-miss') lines.push(`          signature: ${String(f.evidence['signature'])}`);
  }
  const kinds = Object.entries(report.counts).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(
    `${report.records} records, ${report.kbVersion}; ${report.backgroundLines} background lines, broad above ${(100 * report.maxBackgroundRate).toFixed(2)}%: ` +
      `${report.errors} error(s), ${report.warnings} warning(s)${kinds ? ` (${kinds})` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
