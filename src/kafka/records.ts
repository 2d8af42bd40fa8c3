/**
 * Pure batch processing for the daemon: input messages in, output/DLQ records out. No kafkajs, no
 * clock of its own (the caller passes `now`), no logger: unit-tested and benchmarked directly.
 */
import { isUtf8 } from 'node:buffer';

import { OtlpDecodeError, decodeOtlpLogs, decodeValue, otlpEncoding, type Enricher, type EnrichedMessage, type KafkaSource, type MessageFormat, type MessageInput, type PoisonCode } from '../enrich/index.js';
import { ErrorCodes } from '../errors.js';

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
  decorate?: (message: InputMessage, result: EnrichedMessage, headers: Record<string, Buffer | string>) => void;
}

export interface Poison {
  message: InputMessage;
  reason: DlqReason;
  detail: string;
}

export interface ProcessResult {
  records: OutputRecord[];
  enriched: { message: InputMessage; result: EnrichedMessage }[];
  poison: Poison[];
  matched: number;
  /** Unmatched messages that had only weak matches (below match.minStrength); included in `unmatched`. */
  weak: number;
  unmatched: number;
  bytes: number;
  scanSeconds: number;
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
 * The inputs of one Kafka message for `Enricher.process`: the message itself, or, for OTLP logs, one
 * already-extracted input per log record (`source.record` is its index). A malformed OTLP message is
 * poison whole.
 */
export function messageInputs(m: InputMessage, options: Pick<ProcessOptions, 'format' | 'fields' | 'maxMessageBytes'>): MessageInput[] | Omit<Poison, 'message'> {
  const otlp = m.value === null ? null : otlpEncoding(options.format, headerString(m.headers, HEADER.contentType), m.value);
  if (otlp === null) return [{ value: m.value, source: kafkaSource(m) }];
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
 * Routes the per-message outcomes of `Enricher.process` to records: events to the output topic,
 * unmatched ones to the unmatched topic (or dropped), poison to the DLQ. Building a record is a
 * per-message step too: a failure there dead-letters that message, never the batch. A Kafka message
 * with several items (OTLP log records) is dead-lettered whole if any of them is poison.
 */
export function processMessages(messages: readonly InputMessage[], enricher: Enricher, options: ProcessOptions, now: Date): ProcessResult {
  const t0 = process.hrtime.bigint();
  const poison: Poison[] = [];
  const inputs: MessageInput[] = [];
  const owner: number[] = []; // input -> message index
  messages.forEach((m, i) => {
    const x = messageInputs(m, options);
    if (!Array.isArray(x)) {
      poison.push({ message: m, ...x });
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
  const failed = new Map<number, { reason: DlqReason; detail: string }>();
  outcomes.forEach((o, k) => {
    if (o.kind === 'poison' && !failed.has(owner[k]!)) failed.set(owner[k]!, { reason: o.code, detail: o.detail });
  });
  const records: OutputRecord[] = [];
  const enriched: ProcessResult['enriched'] = [];
  let matched = 0;
  let unmatched = 0;
  let weak = 0;
  let bytes = 0;
  const counted = new Set<number>();
  outcomes.forEach((o, k) => {
    const i = owner[k]!;
    const m = messages[i]!;
    if (!counted.has(i)) {
      counted.add(i);
      bytes += o.kind === 'poison' ? o.bytes : (m.value?.length ?? 0);
    }
    if (failed.has(i) || o.kind === 'poison') return;
    const r = o.result;
    const topic = r.matched ? options.outputTopic : options.unmatchedTopic;
    if (topic !== null) {
      try {
        records.push(eventRecord(m, r, o.json, topic, enricher.kb.version, options));
      } catch (err) {
        failed.set(i, { reason: ErrorCodes.MESSAGE_FAILED, detail: `record: ${(err as Error).message}` });
        return;
      }
    }
    enriched.push({ message: m, result: r });
    if (r.matched) matched++;
    else unmatched++;
    if (r.weak) weak++;
  });
  // A record built before its message turned out to be poison is withdrawn: the message goes whole to the DLQ.
  const poisoned = new Set([...failed.keys()].map((i) => messages[i]!));
  const kept = poisoned.size === 0 ? records : records.filter((r) => !poisoned.has(recordOwner(r)!));
  const keptEnriched = poisoned.size === 0 ? enriched : enriched.filter((e) => !poisoned.has(e.message));
  if (poisoned.size > 0) {
    matched = keptEnriched.filter((e) => e.result.matched).length;
    unmatched = keptEnriched.length - matched;
    weak = keptEnriched.filter((e) => e.result.weak).length;
  }
  for (const [i, f] of [...failed.entries()].sort((a, b) => a[0] - b[0])) poison.push({ message: messages[i]!, ...f });
  const dlq = poison.map((p) => safeDlqRecord(p, options.dlqTopic, now));
  // Output order follows input offsets; DLQ records go to their own topic.
  return { records: [...kept, ...dlq], enriched: keptEnriched, poison, matched, weak, unmatched, bytes, scanSeconds };
}

const RECORD_OWNER = Symbol('logsift.recordOwner');

function recordOwner(r: OutputRecord): InputMessage | undefined {
  return (r as OutputRecord & { [RECORD_OWNER]?: InputMessage })[RECORD_OWNER];
}

function eventRecord(m: InputMessage, r: EnrichedMessage, json: string, topic: string, kbVersion: string, options: ProcessOptions): OutputRecord {
  const headers: Record<string, Buffer | string> = { ...sourceHeaders(m), [HEADER.kbVersion]: kbVersion };
  const sig = r.signatureId;
  if (sig !== null) headers[HEADER.signatureId] = sig;
  for (const h of [HEADER.traceparent, HEADER.tracestate]) {
    const v = headerString(m.headers, h);
    if (v !== undefined) headers[h] = v;
  }
  options.decorate?.(m, r, headers);
  const key = options.key === 'input' ? m.key : options.key === 'signature' ? sig : null;
  const record: OutputRecord = { topic, key, value: json, headers };
  Object.defineProperty(record, RECORD_OWNER, { value: m, enumerable: false });
  return record;
}
