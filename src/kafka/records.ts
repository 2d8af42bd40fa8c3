/**
 * Pure batch processing for the daemon: input messages in, output/DLQ records out. No kafkajs, no
 * clock of its own (the caller passes `now`), no logger: unit-tested and benchmarked directly.
 */
import { isUtf8 } from 'node:buffer';

import { type Enricher, type EnrichedMessage, type EventContext, type KafkaSource, JsonRequiredError, OtlpDecodeError, decodeOtlpLogs, extractText, otlpEncoding, textFormat, type MessageFormat } from '../enrich/index.js';
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

export type DlqReason =
  | typeof ErrorCodes.INVALID_UTF8
  | typeof ErrorCodes.MESSAGE_TOO_LARGE
  | typeof ErrorCodes.JSON_REQUIRED
  | typeof ErrorCodes.SCAN_FAILED
  | typeof ErrorCodes.OTLP_INVALID
  | 'LOGSIFT_EMPTY_VALUE';

export interface ProcessOptions {
  outputTopic: string;
  unmatchedTopic: string | null;
  dlqTopic: string;
  key: 'input' | 'signature' | 'none';
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

/** Decodes one message at the edge: its text, or why it is poison. `binary` values (protobuf) skip the UTF-8 check. */
export function decode(m: InputMessage, maxMessageBytes: number, binary = false): { text: string } | { reason: DlqReason; detail: string } {
  if (m.value === null) return { reason: 'LOGSIFT_EMPTY_VALUE', detail: 'message has no value (tombstone)' };
  if (m.value.length > maxMessageBytes) {
    return { reason: ErrorCodes.MESSAGE_TOO_LARGE, detail: `value is ${m.value.length} bytes, over the ${maxMessageBytes}-byte limit` };
  }
  if (binary) return { text: '' };
  if (!isUtf8(m.value)) return { reason: ErrorCodes.INVALID_UTF8, detail: 'value is not valid UTF-8' };
  return { text: m.value.toString('utf8') };
}

/** What one message gives to scan: one item (a log line), or one per OTLP log record (`record` is its index). */
export interface MessageItem {
  text: string;
  log: unknown;
  context?: EventContext;
  record?: number;
}

/** Decodes and extracts one message: its items, or why the whole message is poison. */
export function extractMessage(m: InputMessage, options: Pick<ProcessOptions, 'format' | 'fields' | 'maxMessageBytes'>): { items: MessageItem[] } | Omit<Poison, 'message'> {
  const otlp = m.value === null ? null : otlpEncoding(options.format, headerString(m.headers, HEADER.contentType), m.value);
  const d = decode(m, options.maxMessageBytes, otlp === 'proto');
  if ('reason' in d) return d;
  try {
    if (otlp !== null) return { items: decodeOtlpLogs(m.value!, otlp, options.fields).map((e, record) => ({ ...e, record })) };
    return { items: [extractText(d.text, options.fields, textFormat(options.format))] };
  } catch (err) {
    if (err instanceof OtlpDecodeError) return { reason: ErrorCodes.OTLP_INVALID, detail: err.message };
    if (err instanceof JsonRequiredError) return { reason: ErrorCodes.JSON_REQUIRED, detail: err.message };
    throw err;
  }
}

function itemSource(o: { message: InputMessage; record?: number }): KafkaSource {
  const src = kafkaSource(o.message);
  if (o.record !== undefined) src.record = o.record;
  return src;
}

export function processMessages(messages: readonly InputMessage[], enricher: Enricher, options: ProcessOptions, now: Date): ProcessResult {
  const poison: Poison[] = [];
  const ok: (MessageItem & { message: InputMessage })[] = [];
  let bytes = 0;
  for (const m of messages) {
    const x = extractMessage(m, options);
    if ('reason' in x) {
      // Decoded but rejected by extraction: its bytes were read, as before OTLP existed.
      if (x.reason === ErrorCodes.JSON_REQUIRED || x.reason === ErrorCodes.OTLP_INVALID) bytes += m.value!.length;
      poison.push({ message: m, ...x });
      continue;
    }
    bytes += m.value!.length;
    for (const item of x.items) ok.push({ message: m, ...item });
  }

  const t0 = process.hrtime.bigint();
  let results: EnrichedMessage[];
  let scanned = ok;
  try {
    results = enricher.enrichExtracted(ok, ok.map(itemSource));
  } catch {
    // Isolate the message the scan fails on; the rest of the batch goes on. A message with several
    // items (OTLP records) is dead-lettered whole if any of them fails.
    const each: (EnrichedMessage | null)[] = [];
    const failed = new Set<InputMessage>();
    for (const o of ok) {
      try {
        each.push(enricher.enrichExtracted([o], [itemSource(o)])[0]!);
      } catch (err) {
        each.push(null);
        if (!failed.has(o.message)) poison.push({ message: o.message, reason: ErrorCodes.SCAN_FAILED, detail: (err as Error).message });
        failed.add(o.message);
      }
    }
    results = [];
    scanned = [];
    ok.forEach((o, i) => {
      if (failed.has(o.message)) return;
      results.push(each[i]!);
      scanned.push(o);
    });
  }
  const scanSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const records: OutputRecord[] = [];
  const enriched: ProcessResult['enriched'] = [];
  let matched = 0;
  let unmatched = 0;
  let weak = 0;
  scanned.forEach((o, i) => {
    const r = results[i]!;
    enriched.push({ message: o.message, result: r });
    const topic = r.matched ? options.outputTopic : options.unmatchedTopic;
    if (r.matched) matched++;
    else unmatched++;
    if (r.weak) weak++;
    if (topic === null) return;
    const headers: Record<string, Buffer | string> = { ...sourceHeaders(o.message), [HEADER.kbVersion]: enricher.kb.version };
    const sig = r.signatureId;
    if (sig !== null) headers[HEADER.signatureId] = sig;
    for (const h of [HEADER.traceparent, HEADER.tracestate]) {
      const v = headerString(o.message.headers, h);
      if (v !== undefined) headers[h] = v;
    }
    options.decorate?.(o.message, r, headers);
    const key = options.key === 'input' ? o.message.key : options.key === 'signature' ? sig : null;
    records.push({ topic, key, value: r.json(), headers });
  });
  const dlq = poison.map((p) => dlqRecord(p, options.dlqTopic, now));
  // Output order follows input offsets; DLQ records go to their own topic.
  return { records: [...records, ...dlq], enriched, poison, matched, weak, unmatched, bytes, scanSeconds };
}
