/**
 * Pure batch processing for the daemon: input messages in, output/DLQ records out. No kafkajs, no
 * clock of its own (the caller passes `now`), no logger: unit-tested and benchmarked directly.
 */
import { isUtf8 } from 'node:buffer';

import { OtlpDecodeError, decodeOtlpLogs, decodeValue, otlpEncoding, type Enricher, type OtlpEncoding, type EnrichedMessage, type EventResource, type KafkaSource, type MessageFormat, type MessageInput, type PoisonCode } from '../enrich/index.js';
import { ErrorCodes } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import type { MinedText, MiningSelector } from '../suggest/index.js';

export type { MiningSelector };

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

export interface InputMessage {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, HeaderValue>;
}

export interface OutputRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | string;
  headers: Record<string, Buffer | string>;
}

/** Why a message went to the DLQ: a per-message outcome's code (see Enricher.process), or a malformed OTLP message. */
export type DlqReason = PoisonCode | typeof ErrorCodes.OTLP_INVALID;

export interface ProcessOptions {
  outputTopic: string;
  unmatchedTopic: string | null;
  dlqTopic: string;
  key: 'input' | 'signature' | 'none';
  /** Decides OTLP decoding (otlp_json, otlp_proto, or auto-detected); text extraction follows the enricher's own format. */
  format: MessageFormat;
  fields: readonly string[];
  maxMessageBytes: number;
  /** Lets the shell add headers to an event record (trace context); called once per produced event. */
  decorate?: (message: InputMessage, item: ChunkItem, headers: Record<string, Buffer | string>) => void;
}

export interface Poison {
  message: InputMessage;
  reason: DlqReason;
  detail: string;
}

export interface ProcessResult {
  records: OutputRecord[];
  /** Every message that is not poison, in input order (an OTLP message: one per log record). */
  items: ChunkItem[];
  /** The items' full results, when enriched on this thread (empty from enrichment workers). */
  enriched: { message: InputMessage; result: EnrichedMessage }[];
  poison: Poison[];
  matched: number;
  /** Unmatched messages that had only weak matches (below match.minStrength); included in `unmatched`. */
  weak: number;
  unmatched: number;
  bytes: number;
  scanSeconds: number;
  /** The version of the KB the chunk was enriched with. */
  kbVersion: string;
}

export const HEADER = {
  sourceTopic: 'logsift.source.topic',
  sourcePartition: 'logsift.source.partition',
  sourceOffset: 'logsift.source.offset',
  kbVersion: 'logsift.kb.version',
  signatureId: 'logsift.signature.id',
  dlqReason: 'logsift.dlq.reason',
  dlqDetail: 'logsift.dlq.detail',
  dlqTime: 'logsift.dlq.time',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  contentType: 'content-type',
} as const;

export function kafkaSource(m: InputMessage): KafkaSource {
  const src: KafkaSource = { topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp, key: null };
  if (m.key !== null) {
    if (isUtf8(m.key)) src.key = m.key.toString('utf8');
    else {
      src.key = m.key.toString('base64');
      src.key_encoding = 'base64';
    }
  }
  return src;
}

function sourceHeaders(m: InputMessage): Record<string, string> {
  return { [HEADER.sourceTopic]: m.topic, [HEADER.sourcePartition]: String(m.partition), [HEADER.sourceOffset]: m.offset };
}

/** A header's first value (kafkajs gives a Buffer, or an array for repeated headers). */
export function firstHeader(v: HeaderValue): Buffer | string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A header's first value as a string. */
export function headerString(headers: Record<string, HeaderValue>, name: string): string | undefined {
  return firstHeader(headers[name])?.toString();
}

/** The DLQ record: the input untouched (value, key, headers) plus reason and coordinate headers. */
export function dlqRecord(p: Poison, dlqTopic: string, now: Date): OutputRecord {
  const headers: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(p.message.headers)) {
    const first = firstHeader(v);
    if (first !== undefined) headers[k] = first;
  }
  Object.assign(headers, sourceHeaders(p.message), {
    [HEADER.dlqReason]: p.reason,
    [HEADER.dlqDetail]: p.detail,
    [HEADER.dlqTime]: now.toISOString(),
  });
  return { topic: dlqTopic, key: p.message.key, value: p.message.value ?? Buffer.alloc(0), headers };
}

/** Decodes one message at the edge: its text, or why it is poison. */
export function decode(m: InputMessage, maxMessageBytes: number): { text: string } | { reason: DlqReason; detail: string } {
  return decodeValue({ value: m.value }, maxMessageBytes);
}

/** The DLQ record; if the input's headers cannot be copied, the record without them (never nothing). */
function safeDlqRecord(p: Poison, dlqTopic: string, now: Date): OutputRecord {
  try {
    return dlqRecord(p, dlqTopic, now);
  } catch (err) {
    const detail = `${p.detail}; input headers dropped: ${(err as Error).message}`;
    return dlqRecord({ ...p, detail, message: { ...p.message, headers: {} } }, dlqTopic, now);
  }
}

/**
 * Which OTLP encoding a Kafka message is in, or null for a plain log: the message is then its own one
 * input for `Enricher.process`; an OTLP message has one input per log record (`otlpInputs`).
 */
function otlpOf(m: InputMessage, format: MessageFormat): OtlpEncoding | null {
  return m.value === null ? null : otlpEncoding(format, headerString(m.headers, HEADER.contentType), m.value);
}

/**
 * The inputs of an OTLP message: one already-extracted input per log record (`source.record` is its
 * index). A malformed OTLP message is poison whole.
 */
function otlpInputs(m: InputMessage, otlp: OtlpEncoding, options: Pick<ProcessOptions, 'format' | 'fields' | 'maxMessageBytes'>): MessageInput[] | Omit<Poison, 'message'> {
  const size = decodeValue({ value: m.value, size: m.value!.length }, options.maxMessageBytes);
  if ('reason' in size && size.reason === ErrorCodes.MESSAGE_TOO_LARGE) return size;
  try {
    return decodeOtlpLogs(m.value!, otlp, options.fields).map((extracted, record) => ({ value: m.value, source: { ...kafkaSource(m), record }, extracted: { ...extracted, json: true } }));
  } catch (err) {
    if (err instanceof OtlpDecodeError) return { reason: ErrorCodes.OTLP_INVALID, detail: err.message };
    return { reason: ErrorCodes.MESSAGE_FAILED, detail: `extract: ${(err as Error).message}` };
  }
}

/**
 * One message's enrichment as it crosses threads: no enricher, no input buffers, plain data.
 * `owner` is its Kafka message's index in the chunk (an OTLP message has one item per log record).
 */
export interface ChunkItem {
  owner: number;
  matched: boolean;
  weak: boolean;
  /** The primary's record index in the KB the chunk was processed with; -1 when not matched. */
  primary: number;
  signatureId: string | null;
  resource?: EventResource;
  /** The log record's own trace context (OTLP), for the event span's link. */
  traceLink?: { trace_id: string; span_id: string };
  /** The event's value when it is routed to a topic (a worker hands UTF-8 bytes), else null. */
  value: string | Buffer | null;
  /** Only when enriched on this thread: the full result (the shadow KB, tests). */
  result?: EnrichedMessage;
  /** An unmatched item's text and its masked form, when the chunk's mining selector chose it (error-looking, cut). */
  mined?: MinedText;
}

/** Phase 1 of a chunk: what `Enricher.process` decided, per item, before any record is built. */
export interface EnrichedChunk {
  kbVersion: string;
  /** Items not poison, in input order. */
  items: ChunkItem[];
  /** Messages poison in phase 1 (first reason per message), by owner. */
  poison: { owner: number; reason: DlqReason; detail: string }[];
  bytes: number;
  scanSeconds: number;
}

/**
 * Phase 1, pure and thread-agnostic: decode, extract, scan, rank and encode a chunk. `keepResults`
 * keeps each item's EnrichedMessage (same thread only); `select` marks the unmatched items to mine
 * (`mined`), from the text already extracted.
 */
export function enrichChunk(messages: readonly InputMessage[], enricher: Enricher, options: Omit<ProcessOptions, 'decorate'>, keepResults = true, select?: MiningSelector): EnrichedChunk {
  const t0 = process.hrtime.bigint();
  const failed = new Map<number, { reason: DlqReason; detail: string }>();
  const inputs: MessageInput[] = [];
  const owner: number[] = []; // input -> message index
  messages.forEach((m, i) => {
    const otlp = otlpOf(m, options.format);
    if (otlp === null) {
      // A plain log, nearly every message: its one input without a list around it.
      inputs.push({ value: m.value, source: kafkaSource(m) });
      owner.push(i);
      return;
    }
    const x = otlpInputs(m, otlp, options);
    if (!Array.isArray(x)) {
      failed.set(i, x);
      return;
    }
    for (const input of x) {
      inputs.push(input);
      owner.push(i);
    }
  });
  const outcomes = enricher.process(inputs, { maxMessageBytes: options.maxMessageBytes, unmatchedEvents: options.unmatchedTopic !== null });
  const scanSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  // A message is poison if any of its items is.
  outcomes.forEach((o, k) => {
    if (o.kind === 'poison' && !failed.has(owner[k]!)) failed.set(owner[k]!, { reason: o.code, detail: o.detail });
  });
  const items: ChunkItem[] = [];
  let bytes = 0;
  let last = -1;
  outcomes.forEach((o, k) => {
    const i = owner[k]!;
    if (i !== last) {
      last = i;
      bytes += o.kind === 'poison' ? o.bytes : (messages[i]!.value?.length ?? 0);
    }
    if (failed.has(i) || o.kind === 'poison') return;
    const r = o.result;
    const topic = r.matched ? options.outputTopic : options.unmatchedTopic;
    const item: ChunkItem = { owner: i, matched: r.matched, weak: r.weak, primary: r.primary?.index ?? -1, signatureId: r.signatureId, value: topic === null ? null : o.json };
    if (r.context?.resource !== undefined) item.resource = r.context.resource;
    if (r.context?.trace_id !== undefined && r.context.span_id !== undefined) item.traceLink = { trace_id: r.context.trace_id, span_id: r.context.span_id };
    if (keepResults) item.result = r;
    if (select !== undefined && !r.matched) {
      const mined = select(o.text, o.log);
      if (mined !== null) item.mined = mined;
    }
    items.push(item);
  });
  const poison = [...failed.entries()].sort((a, b) => a[0] - b[0]).map(([i, f]) => ({ owner: i, ...f }));
  return { kbVersion: enricher.kb.version, items, poison, bytes, scanSeconds };
}

/**
 * Phase 2, on the thread that delivers: routes the items to records — events to the output topic,
 * unmatched ones to the unmatched topic (or dropped), poison to the DLQ. Building a record is a
 * per-message step too: a failure there dead-letters that message, never the batch. A Kafka message
 * with several items (OTLP log records) is dead-lettered whole if any of them is poison.
 */
export function chunkRecords(messages: readonly InputMessage[], chunk: EnrichedChunk, options: ProcessOptions, now: Date): ProcessResult {
  const failed = new Map<number, { reason: DlqReason; detail: string }>(chunk.poison.map((p) => [p.owner, { reason: p.reason, detail: p.detail }]));
  const built: { item: ChunkItem; record: OutputRecord | null }[] = [];
  for (const item of chunk.items) {
    const m = messages[item.owner]!;
    if (failed.has(item.owner)) continue;
    if (item.value === null) {
      built.push({ item, record: null });
      continue;
    }
    const topic = item.matched ? options.outputTopic : options.unmatchedTopic!;
    try {
      built.push({ item, record: eventRecord(m, item, topic, chunk.kbVersion, options) });
    } catch (err) {
      failed.set(item.owner, { reason: ErrorCodes.MESSAGE_FAILED, detail: `record: ${(err as Error).message}` });
    }
  }
  // A record built before its message turned out to be poison is withdrawn: the message goes whole to the DLQ.
  const kept = failed.size === 0 ? built : built.filter((b) => !failed.has(b.item.owner));
  const records: OutputRecord[] = [];
  const items: ChunkItem[] = [];
  let matched = 0;
  let weak = 0;
  for (const b of kept) {
    if (b.record) records.push(b.record);
    items.push(b.item);
    if (b.item.matched) matched++;
    if (b.item.weak) weak++;
  }
  const poison: Poison[] = [...failed.entries()].sort((a, b) => a[0] - b[0]).map(([i, f]) => ({ message: messages[i]!, ...f }));
  const dlq = poison.map((p) => safeDlqRecord(p, options.dlqTopic, now));
  const enriched = items.filter((x) => x.result !== undefined).map((x) => ({ message: messages[x.owner]!, result: x.result! }));
  // Output order follows input offsets; DLQ records go to their own topic.
  return { records: [...records, ...dlq], items, enriched, poison, matched, weak, unmatched: items.length - matched, bytes: chunk.bytes, scanSeconds: chunk.scanSeconds, kbVersion: chunk.kbVersion };
}

/** Both phases on this thread (the daemon without enrichment workers, tests). */
export function processMessages(messages: readonly InputMessage[], enricher: Enricher, options: ProcessOptions, now: Date, select?: MiningSelector): ProcessResult {
  return chunkRecords(messages, enrichChunk(messages, enricher, options, true, select), options, now);
}

function eventRecord(m: InputMessage, item: ChunkItem, topic: string, kbVersion: string, options: ProcessOptions): OutputRecord {
  const headers: Record<string, Buffer | string> = { ...sourceHeaders(m), [HEADER.kbVersion]: kbVersion };
  const sig = item.signatureId;
  if (sig !== null) headers[HEADER.signatureId] = sig;
  for (const h of [HEADER.traceparent, HEADER.tracestate]) {
    const v = headerString(m.headers, h);
    if (v !== undefined) headers[h] = v;
  }
  options.decorate?.(m, item, headers);
  const key = options.key === 'input' ? m.key : options.key === 'signature' ? sig : null;
  return { topic, key, value: item.value!, headers };
}

/**
 * Where a chunk's phase 1 runs: on this thread, or on enrichment workers (enrich-pool.ts). `kb` is the
 * knowledge base the chunks are enriched with (its heads name the primaries).
 */
export interface ChunkProcessor {
  readonly kb: KnowledgeBase;
  enrich(messages: readonly InputMessage[], options: Omit<ProcessOptions, 'decorate'>): Promise<EnrichedChunk>;
}

/** Phase 1 on the event loop (`match.workers: 0`, the shadow KB, tests). */
export class InlineProcessor implements ChunkProcessor {
  constructor(
    readonly enricher: Enricher,
    private readonly select?: MiningSelector,
  ) {}

  get kb(): KnowledgeBase {
    return this.enricher.kb;
  }

  enrich(messages: readonly InputMessage[], options: Omit<ProcessOptions, 'decorate'>): Promise<EnrichedChunk> {
    return Promise.resolve(enrichChunk(messages, this.enricher, options, true, this.select));
  }
}
