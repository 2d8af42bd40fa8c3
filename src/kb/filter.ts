/**
 * Choosing the part of a knowledge base that fits (`kb.include` / `kb.exclude`).
 *
 * A term is `<field>:<glob>`, field one of `domain`, `category`, `id`:
 *   domain:python        records whose domain is `python`
 *   category:*_error     any category ending in `_error`
 *   id:culture/*         ids starting with `culture/` (`*` also crosses `/`)
 * Globs: `*` any run of characters, `?` one character; everything else literal, compared
 * case-insensitively. A record is kept when `include` is empty or some include term matches it, and
 * no exclude term matches it (exclude wins). Dropped records are reported, never silently lost.
 */
import { ErrorCodes, LogsiftError } from '../errors.js';
import type { LoadedRecord } from './load.js';
import type { KbRecord } from './record.js';

export const FILTER_FIELDS = ['domain', 'category', 'id'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

const TERM = /^(domain|category|id):(.+)$/;

export interface FilterTerm {
  /** As written, for reports. */
  text: string;
  field: FilterField;
  test: (value: string) => boolean;
}

export interface KbFilterSpec {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** Why a record was dropped: `not included`, or the exclude term that matched it. */
export interface DroppedRecord {
  loaded: LoadedRecord;
  reason: string;
}

export const NOT_INCLUDED = 'not included';

/** Why a term is invalid, or null: the config schema and the CLI both validate with it. */
export function filterTermProblem(text: string): string | null {
  if (!TERM.test(text.trim())) return `"${text}" is not a filter term (use domain:NAME, category:NAME or id:GLOB; * and ? are wildcards)`;
  return null;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'is');
}

export function parseFilterTerm(text: string): FilterTerm {
  const problem = filterTermProblem(text);
  if (problem) throw new LogsiftError(ErrorCodes.CONFIG_INVALID, problem, { field: 'kb.include/kb.exclude' });
  const [, field, glob] = TERM.exec(text.trim())!;
  const re = globToRegExp(glob!);
  return { text: text.trim(), field: field as FilterField, test: (v) => re.test(v) };
}

function matches(term: FilterTerm, r: KbRecord): boolean {
  return term.test(term.field === 'id' ? r.id : term.field === 'domain' ? r.domain : r.category);
}

export class KbFilter {
  readonly include: readonly FilterTerm[];
  readonly exclude: readonly FilterTerm[];

  constructor(spec: KbFilterSpec) {
    this.include = (spec.include ?? []).map(parseFilterTerm);
    this.exclude = (spec.exclude ?? []).map(parseFilterTerm);
  }

  get empty(): boolean {
    return this.include.length === 0 && this.exclude.length === 0;
  }

  /** null to keep the record, else the reason it is dropped. */
  reasonToDrop(r: KbRecord): string | null {
    if (this.include.length > 0 && !this.include.some((t) => matches(t, r))) return NOT_INCLUDED;
    const ex = this.exclude.find((t) => matches(t, r));
    return ex ? `exclude ${ex.text}` : null;
  }

  apply(records: readonly LoadedRecord[]): { kept: LoadedRecord[]; dropped: DroppedRecord[] } {
    const kept: LoadedRecord[] = [];
    const dropped: DroppedRecord[] = [];
    for (const loaded of records) {
      const reason = this.reasonToDrop(loaded.record);
      if (reason === null) kept.push(loaded);
      else dropped.push({ loaded, reason });
    }
    return { kept, dropped };
  }

  describe(): string {
    const inc = this.include.length > 0 ? `include ${this.include.map((t) => t.text).join(', ')}` : 'include all';
    return this.exclude.length > 0 ? `${inc}; exclude ${this.exclude.map((t) => t.text).join(', ')}` : inc;
  }
}

/** Counts by domain: kept, and dropped per reason, sorted by count (for `kb check` and logs). */
export function filterReport(kept: readonly LoadedRecord[], dropped: readonly DroppedRecord[]): {
  kept: { domain: string; count: number }[];
  dropped: { domain: string; reason: string; count: number }[];
} {
  const count = <K extends string>(keys: K[]): Map<K, number> => {
    const m = new Map<K, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const byCount = (a: { count: number; domain: string }, b: { count: number; domain: string }): number => b.count - a.count || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0);
  const keptCounts = count(kept.map((k) => k.record.domain));
  const droppedCounts = count(dropped.map((d) => `${d.loaded.record.domain}\u0000${d.reason}`));
  return {
    kept: [...keptCounts].map(([domain, c]) => ({ domain, count: c })).sort(byCount),
    dropped: [...droppedCounts]
      .map(([key, c]) => {
        const [domain, reason] = key.split('\u0000') as [string, string];
        return { domain, reason, count: c };
      })
      .sort(byCount),
  };
}
