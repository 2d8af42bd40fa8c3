import { createHash } from 'node:crypto';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { LoadedRecord } from './load.js';
import { workaroundIds } from './ids.js';
import type { KbRecord } from './record.js';
import { regexWords, type RegexWords } from './forms.js';
import { fixedWords } from './words.js';

/** JSON with object keys sorted, so the content hash does not depend on key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What a KB snapshot restores without validating or hashing again (see snapshot.ts). */
export interface KnowledgeBaseState {
  records: KbRecord[];
  sources: { file: string; line: number }[];
  version: string;
  /** Each signature's `fixedWords`, when they were all known (a worker need not count them again). */
  signatureWords?: (readonly string[])[];
  /** Each regex's forms and words, when they were all known. */
  regexWords?: RegexWords[];
}

/** The fields matching and ranking read of every record at start; the rest is read per matched record. */
export const HEAD_FIELDS = ['id', 'signature', 'regex', 'domain', 'category', 'confidence'] as const;
export type RecordHead = Pick<KbRecord, (typeof HEAD_FIELDS)[number]>;

/**
 * A snapshot whose records are parsed on first use: each record's head at once, the full record
 * (`record(i)`) when something asks for it — most records never match anything in a given run.
 */
export interface LazyKnowledgeBaseState {
  heads: RecordHead[];
  /** The full record `index`, whose head is `heads[index]`. */
  load(index: number): KbRecord;
  /** Each signature's `fixedWords`, when the snapshot kept them. */
  signatureWords?: string[][];
  /** Each regex's forms and words (forms.ts), when the snapshot kept them. */
  regexWords?: RegexWords[];
  sources: { file: string; line: number }[];
  version: string;
}

/** The loaded, validated records, with lookups and a content-hash version. Immutable. */
export class KnowledgeBase {
  /** Each record's head fields (`HEAD_FIELDS`), by index: all that the start-up and the ranking read. */
  readonly heads: readonly RecordHead[];
  readonly sources: readonly { file: string; line: number }[];
  /** `kb-` + 16 hex chars of the SHA-256 of the records (sorted by id, keys sorted). */
  readonly version: string;
  private readonly byId: Map<string, number>;
  private readonly full: (KbRecord | undefined)[];
  private readonly load: ((index: number) => KbRecord) | null;
  private all: readonly KbRecord[] | null = null;
  private readonly workaroundIdCache: (string[] | undefined)[];
  private readonly signatureWordCache: (readonly string[] | undefined)[];
  private readonly regexWordCache: (RegexWords | undefined)[];

  constructor(loaded: readonly LoadedRecord[] | KnowledgeBaseState | LazyKnowledgeBaseState) {
    if ('load' in loaded) {
      // A snapshot of a KB built here before, records parsed on first use.
      this.heads = loaded.heads;
      this.sources = loaded.sources;
      this.version = loaded.version;
      this.load = loaded.load;
      this.full = new Array<KbRecord | undefined>(loaded.heads.length);
      this.signatureWordCache = loaded.signatureWords?.length === loaded.heads.length ? loaded.signatureWords : new Array<string[] | undefined>(loaded.heads.length);
      this.regexWordCache = loaded.regexWords?.length === loaded.heads.length ? loaded.regexWords : new Array<RegexWords | undefined>(loaded.heads.length);
    } else {
      let records: readonly KbRecord[];
      if (!Array.isArray(loaded)) {
        // A snapshot of a KB built here before: already sorted, validated and hashed.
        const state = loaded as KnowledgeBaseState;
        records = state.records;
        this.sources = state.sources;
        this.version = state.version;
      } else {
        if (loaded.length === 0) throw new LogsiftError(ErrorCodes.KB_EMPTY, 'the knowledge base has no records');
        const sorted = [...(loaded as readonly LoadedRecord[])].sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
        records = sorted.map((l) => l.record);
        this.sources = sorted.map((l) => ({ file: l.file, line: l.line }));
        const hash = createHash('sha256');
        for (const r of records) hash.update(canonicalJson(r)).update('\n');
        this.version = `kb-${hash.digest('hex').slice(0, 16)}`;
      }
      this.heads = records;
      this.full = [...records];
      this.all = records;
      this.load = null;
      const state = Array.isArray(loaded) ? undefined : (loaded as KnowledgeBaseState);
      this.signatureWordCache = state?.signatureWords?.length === records.length ? [...state.signatureWords] : new Array<string[] | undefined>(records.length);
      this.regexWordCache = state?.regexWords?.length === records.length ? [...state.regexWords] : new Array<RegexWords | undefined>(records.length);
    }
    this.byId = new Map(this.heads.map((r, i) => [r.id, i]));
    this.workaroundIdCache = new Array<string[] | undefined>(this.heads.length);
  }

  /** Every full record, by index (a lazy snapshot parses them all on the first call). */
  get records(): readonly KbRecord[] {
    this.all ??= this.heads.map((_, i) => this.record(i));
    return this.all;
  }

  /** The full record `index`. */
  record(index: number): KbRecord {
    let r = this.full[index];
    if (r === undefined) {
      if (this.load === null || index < 0 || index >= this.heads.length) throw new RangeError(`no record ${index} in a KB of ${this.heads.length}`);
      r = this.load(index);
      this.full[index] = r;
    }
    return r;
  }

  /** The state a snapshot keeps (records as validated, sorted; sources; version). */
  state(): KnowledgeBaseState {
    const complete = <T>(cache: (T | undefined)[]): T[] | undefined => (cache.every((x) => x !== undefined) ? (cache as T[]) : undefined);
    const signatureWords = complete(this.signatureWordCache);
    const regexWords = complete(this.regexWordCache);
    return { records: [...this.records], sources: [...this.sources], version: this.version, ...(signatureWords ? { signatureWords } : {}), ...(regexWords ? { regexWords } : {}) };
  }

  get size(): number {
    return this.heads.length;
  }

  indexOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  get(id: string): KbRecord | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.record(i);
  }

  /** The fixed words of record `index`'s signature (words.ts). */
  signatureWords(index: number): readonly string[] {
    return (this.signatureWordCache[index] ??= fixedWords(this.heads[index]!.signature));
  }

  /** Record `index`'s regex read as text: its forms and all its fixed words (forms.ts). */
  regexWords(index: number): RegexWords {
    return (this.regexWordCache[index] ??= regexWords(this.heads[index]!.regex));
  }

  workaroundIds(index: number): readonly string[] {
    if (index < 0 || index >= this.heads.length) return [];
    return (this.workaroundIdCache[index] ??= workaroundIds(this.record(index)));
  }
}
