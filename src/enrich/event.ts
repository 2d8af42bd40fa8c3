/**
 * The enriched event, v1 (JSON Schema: schema/event-v1.schema.json). Pure: no clock, no I/O.
 */
import type { KnowledgeBase } from '../kb/index.js';
import { deadEndIds } from '../kb/ids.js';
import type { RankedMatch } from './rank.js';
import { contextFields, contextJson, type EventContext } from './context.js';

export const EVENT_SCHEMA = 'logsift.event/v1';

export interface FileSource {
  file: string;
  line: number;
}

export interface KafkaSource {
  topic: string;
  partition: number;
  offset: string;
  /** Message timestamp, ms since the epoch, as Kafka gives it. */
  timestamp: string | null;
  /** The key as UTF-8 text, or base64 when it is not valid UTF-8 (then key_encoding is "base64"). */
  key: string | null;
  key_encoding?: 'base64';
  /** OTLP input: the log record's index within the message (resourceLogs → scopeLogs → logRecords order). */
  record?: number;
}

export type EventSource = FileSource | KafkaSource | Record<string, never>;

export interface LogsiftEvent {
  schema: typeof EVENT_SCHEMA;
  signature_id: string | null;
  signature: string | null;
  /** The primary's match strength in [0, 1]; null without a primary. */
  strength: number | null;
  /** Every matched record, best first, weak ones included. */
  matches: string[];
  /** Each listed match's strength, in the order of `matches`. */
  match_strengths: number[];
  root_cause: string | null;
  workaround_ids: string[];
  dead_end_ids: string[];
  domain: string | null;
  category: string | null;
  confidence: number | null;
  official_doc_url: string | null;
  kb_version: string;
  source: EventSource;
  /** Where the error happened, and the OTLP record's severity and trace context (context.ts). */
  resource?: EventContext['resource'];
  severity_text?: string;
  trace_id?: string;
  span_id?: string;
  /** Absent with output.includeLog: false. */
  log?: unknown;
}

/** Pass as `log` to leave the field out (output.includeLog: false). */
export const NO_LOG: unique symbol = Symbol('no log');

/**
 * The event of one message. `hasPrimary`: the first ranked match is the primary (strong enough);
 * otherwise every match is weak and the event has no signature.
 */
export function buildEvent(ranked: readonly RankedMatch[], hasPrimary: boolean, kb: KnowledgeBase, source: EventSource, log: unknown, context?: EventContext): LogsiftEvent {
  const primary = hasPrimary && ranked.length > 0 ? ranked[0]!.index : -1;
  const record = primary >= 0 ? kb.record(primary) : undefined;
  return {
    schema: EVENT_SCHEMA,
    signature_id: record?.id ?? null,
    signature: record?.signature ?? null,
    strength: record ? ranked[0]!.strength : null,
    matches: ranked.map((m) => kb.heads[m.index]!.id),
    match_strengths: ranked.map((m) => m.strength),
    root_cause: record?.root_cause ?? null,
    workaround_ids: record ? [...kb.workaroundIds(primary)] : [],
    dead_end_ids: record ? deadEndIds(record) : [],
    domain: record?.domain ?? null,
    category: record?.category ?? null,
    confidence: record?.confidence ?? null,
    official_doc_url: record?.official_doc_url ?? null,
    kb_version: kb.version,
    source,
    ...contextFields(context),
    ...(log === NO_LOG ? {} : { log }),
  };
}

/**
 * Serializes events byte-for-byte like `JSON.stringify(buildEvent(...))`, but the record-derived parts
 * (root cause, workaround ids, …) are escaped once per record instead of once per event: at a few
 * hundred thousand events a second that is most of the serialization cost.
 */
export class EventEncoder {
  private readonly head: (string | undefined)[];
  private readonly tail: (string | undefined)[];
  private readonly ids: string[];
  private readonly noMatchTail: string;
  /** JSON of the last file name seen: a file source is then written from a template. */
  private lastFile = '';
  private lastFileJson = '""';

  constructor(private readonly kb: KnowledgeBase) {
    this.head = new Array<string | undefined>(kb.size);
    this.tail = new Array<string | undefined>(kb.size);
    this.ids = kb.heads.map((r) => JSON.stringify(r.id));
    this.noMatchTail = this.fragments(-1)[1];
  }

  private fragments(primary: number): [string, string] {
    // Build the full event for an empty match list and cut it where `matches` and `source` go.
    const e = JSON.stringify(buildEvent(primary >= 0 ? [{ index: primary, strength: 0, score: 0 }] : [], primary >= 0, this.kb, {}, null));
    const m = e.indexOf(',"strength":');
    const afterMatches = e.indexOf(',"root_cause":');
    const s = e.lastIndexOf(',"source":');
    return [e.slice(0, m), e.slice(afterMatches, s)];
  }

  /** `logJson` is the event's `log`, already serialized within bounds (see bounded.ts). */
  encode(ranked: readonly RankedMatch[], hasPrimary: boolean, source: EventSource, logJson: string, context?: EventContext): string {
    const primary = hasPrimary && ranked.length > 0 ? ranked[0]!.index : -1;
    let head: string;
    let tail: string;
    if (primary < 0) {
      head = '{"schema":"logsift.event/v1","signature_id":null,"signature":null';
      tail = this.noMatchTail;
    } else {
      const cachedHead = this.head[primary];
      if (cachedHead === undefined) {
        [head, tail] = this.fragments(primary);
        this.head[primary] = head;
        this.tail[primary] = tail;
      } else {
        head = cachedHead;
        tail = this.tail[primary]!;
      }
    }
    let matches = '[';
    let strengths = '[';
    for (let i = 0; i < ranked.length; i++) {
      const sep = i > 0 ? ',' : '';
      matches += sep + this.ids[ranked[i]!.index];
      strengths += sep + String(ranked[i]!.strength);
    }
    const strength = primary >= 0 ? String(ranked[0]!.strength) : 'null';
    return `${head},"strength":${strength},"matches":${matches}],"match_strengths":${strengths}]${tail},"source":${this.sourceJson(source)}${contextJson(context)}${logJson === '' ? '' : `,"log":${logJson}`}}`;
  }

  /** Same bytes as JSON.stringify(source); `{file, line}` (scan) without the generic walk. */
  private sourceJson(source: EventSource): string {
    const s = source as Partial<FileSource>;
    if (typeof s.file === 'string' && typeof s.line === 'number' && Number.isInteger(s.line) && Object.keys(source).length === 2 && Object.keys(source)[0] === 'file') {
      if (s.file !== this.lastFile) {
        this.lastFile = s.file;
        this.lastFileJson = JSON.stringify(s.file);
      }
      return `{"file":${this.lastFileJson},"line":${s.line}}`;
    }
    return JSON.stringify(source);
  }
}
