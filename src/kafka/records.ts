/**
 * Pure batch processing for the daemon: input messages in, output/DLQ records out. No kafkajs, no
 * clock of its own (the caller passes `now`), no logger: unit-tested and benchmarked directly.
 */
import { isUtf8 } from 'node:buffer';

import { decodeValue, type Enricher, type EnrichedMessage, type InputFormat, type KafkaSource, type MessageInput, type PoisonCode } from '../enrich/index.js';
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

/** Why a message went to the DLQ: a per-message outcome's code (see Enricher.process). */
export type DlqReason = PoisonCode;

export interface ProcessOptions {
  outputTopic: string;
  unmatchedTopic: string | null;
  dlqTopic: string;
  key: 'input' | 'signature' | 'none';
  format: InputFormat;
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
 * Routes the per-message outcomes of `Enricher.process` to records: events to the output topic,
 * unmatched ones to the unmatched topic (or dropped), poison to the DLQ. Building a record is a
 * per-message step too: a failure there dead-letters that message, never the batch.
 */
export function processMessages(messages: readonly InputMessage[], enricher: Enricher, options: ProcessOptions, now: Date): ProcessResult {
  const t0 = process.hrtime.bigint();
  const inputs: MessageInput[] = messages.map((m) => ({ value: m.value, source: kafkaSource(m) }));
  const outcomes = enricher.process(inputs, { maxMessageBytes: options.maxMessageBytes });
  const scanSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const poison: Poison[] = [];
  const records: OutputRecord[] = [];
  const enriched: ProcessResult['enriched'] = [];
  let matched = 0;
  let unmatched = 0;
  let bytes = 0;
  outcomes.forEach((o, i) => {
    const m = messages[i]!;
    bytes += o.bytes;
    if (o.kind === 'poison') {
      poison.push({ message: m, reason: o.code, detail: o.detail });
      return;
    }
    const r = o.result;
    const topic = r.matched ? options.outputTopic : options.unmatchedTopic;
    if (topic !== null) {
      try {
        records.push(eventRecord(m, r, o.json, topic, enricher.kb.version, options));
      } catch (err) {
        poison.push({ message: m, reason: ErrorCodes.MESSAGE_FAILED, detail: `record: ${(err as Error).message}` });
        return;
      }
    }
    enriched.push({ message: m, result: r });
    if (r.matched) matched++;
    else unmatched++;
  });
  const dlq = poison.map((p) => safeDlqRecord(p, options.dlqTopic, now));
  // Output order follows input offsets; DLQ records go to their own topic.
  return { records: [...records, ...dlq], enriched, poison, matched, unmatched, bytes, scanSeconds };
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
  return { topic, key, value: json, headers };
}
