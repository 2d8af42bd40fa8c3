import { createHash } from 'node:crypto';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { LoadedRecord } from './load.js';
import { workaroundIds } from './ids.js';
import type { KbRecord } from './record.js';

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
}

/** The loaded, validated records, with lookups and a content-hash version. Immutable. */
export class KnowledgeBase {
  readonly records: readonly KbRecord[];
  readonly sources: readonly { file: string; line: number }[];
  /** `kb-` + 16 hex chars of the SHA-256 of the records (sorted by id, keys sorted). */
  readonly version: string;
  private readonly byId: Map<string, number>;
  private readonly workaroundIdCache: string[][];

  constructor(loaded: readonly LoadedRecord[] | KnowledgeBaseState) {
    if (!Array.isArray(loaded)) {
      // A snapshot of a KB built here before: already sorted, validated and hashed.
      const state = loaded as KnowledgeBaseState;
      this.records = state.records;
      this.sources = state.sources;
      this.version = state.version;
    } else {
      if (loaded.length === 0) throw new LogsiftError(ErrorCodes.KB_EMPTY, 'the knowledge base has no records');
      const sorted = [...(loaded as readonly LoadedRecord[])].sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
      this.records = sorted.map((l) => l.record);
      this.sources = sorted.map((l) => ({ file: l.file, line: l.line }));
      const hash = createHash('sha256');
      for (const r of this.records) hash.update(canonicalJson(r)).update('\n');
      this.version = `kb-${hash.digest('hex').slice(0, 16)}`;
    }
    this.byId = new Map(this.records.map((r, i) => [r.id, i]));
    this.workaroundIdCache = this.records.map(workaroundIds);
  }

  /** The state a snapshot keeps (records as validated, sorted; sources; version). */
  state(): KnowledgeBaseState {
    return { records: [...this.records], sources: [...this.sources], version: this.version };
  }

  get size(): number {
    return this.records.length;
  }

  indexOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  get(id: string): KbRecord | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.records[i];
  }

  workaroundIds(index: number): readonly string[] {
    return this.workaroundIdCache[index] ?? [];
  }
}
