/**
 * OpenTelemetry logs (OTLP) as Kafka messages, the way the Collector's kafka exporter writes them:
 * one `ExportLogsServiceRequest` per message, `otlp_proto` (its default) or `otlp_json`. Pure.
 *
 * Protobuf is decoded by protobufjs code that the OpenTelemetry JS project generated from the
 * official opentelemetry-proto definitions (shipped in `@opentelemetry/otlp-transformer` up to
 * 0.214, installed here under the alias `@opentelemetry-otlp/proto-root`; later releases replaced it
 * with a writer that cannot decode requests). Both encodings then go through one normalizer.
 *
 * One extracted item per log record: the scanned text is the body (a string, or a structured body's
 * message field, else its JSON) plus the `exception.message` and `exception.stacktrace` attributes.
 */
import { createRequire } from 'node:module';

import type { EventContext } from './context.js';
import { getField, type Extracted } from './extract.js';
import { resourceFromAttributes } from './resource.js';

export type OtlpEncoding = 'json' | 'proto';

export class OtlpDecodeError extends Error {}

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

let requestType: ProtoType | undefined;
function exportLogsServiceRequest(): ProtoType {
  if (requestType === undefined) {
    const require = createRequire(import.meta.url);
    const root = require('@opentelemetry-otlp/proto-root/build/src/generated/root.js') as {
      opentelemetry: { proto: { collector: { logs: { v1: { ExportLogsServiceRequest: ProtoType } } } } };
    };
    requestType = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
  }
  return requestType;
}

/** One OTLP log record as the event's `log`: the record in plain JSON, with its scope and resource. */
export interface OtlpLogView {
  body: unknown;
  severity_text?: string;
  severity_number?: number;
  time_unix_nano?: string;
  observed_time_unix_nano?: string;
  trace_id?: string;
  span_id?: string;
  event_name?: string;
  attributes: Record<string, unknown>;
  scope?: { name?: string; version?: string };
  resource: { attributes: Record<string, unknown> };
}

/** Nesting beyond this is malformed input (and would risk the stack); the message is dead-lettered. */
const MAX_DEPTH = 64;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fail(path: string, what: string): never {
  throw new OtlpDecodeError(`${path}: ${what}`);
}

function arrayAt(o: Obj, key: string, path: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'not an array');
  return v;
}

function objAt(v: unknown, path: string): Obj {
  if (!isObj(v)) fail(path, 'not an object');
  return v;
}

function int64(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v;
  return fail(path, 'not an integer');
}

/** An AnyValue as plain JSON: strings, numbers (int64 beyond 2^53 as strings), arrays and objects. */
function anyValue(v: unknown, path: string, depth: number): unknown {
  if (v === undefined || v === null) return null;
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH}`);
  const o = objAt(v, path);
  if ('stringValue' in o) {
    if (typeof o['stringValue'] !== 'string') fail(`${path}.stringValue`, 'not a string');
    return o['stringValue'];
  }
  if ('boolValue' in o) return o['boolValue'] === true;
  if ('intValue' in o) {
    const s = int64(o['intValue'], `${path}.intValue`)!;
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : s;
  }
  if ('doubleValue' in o) {
    const d = o['doubleValue'];
    if (typeof d === 'number') return d;
    if (typeof d === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(d)) return d;
    return fail(`${path}.doubleValue`, 'not a number');
  }
  if ('bytesValue' in o) return String(o['bytesValue']);
  if ('arrayValue' in o) return arrayAt(objAt(o['arrayValue'] ?? {}, `${path}.arrayValue`), 'values', `${path}.arrayValue`).map((x, i) => anyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1));
  if ('kvlistValue' in o) return keyValues(arrayAt(objAt(o['kvlistValue'] ?? {}, `${path}.kvlistValue`), 'values', `${path}.kvlistValue`), `${path}.kvlistValue.values`, depth + 1);
  return null; // an empty AnyValue
}

function keyValues(list: unknown[], path: string, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  list.forEach((kv, i) => {
    const o = objAt(kv, `${path}[${i}]`);
    if (typeof o['key'] !== 'string') fail(`${path}[${i}].key`, 'not a string');
    out[o['key']] = anyValue(o['value'], `${path}[${i}].value`, depth);
  });
  return out;
}

/** Trace and span ids: lowercase hex of the right length, never all zeros (an absent id). */
function traceId(v: unknown, bytes: number, ids: 'hex' | 'base64', path: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return fail(path, 'not a string');
  const hex = ids === 'hex' ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex');
  if (hex.length !== bytes * 2 || !/^[0-9a-f]+$/.test(hex)) return fail(path, `not a ${bytes}-byte id`);
  return /^0+$/.test(hex) ? undefined : hex;
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The scanned text: body (or a structured body's message fields), then the exception attributes. */
function recordText(body: unknown, attributes: Record<string, unknown>, fields: readonly string[]): string {
  const parts: string[] = [];
  if (isObj(body)) {
    const picked = fields.map((f) => getField(body, f)).filter((x) => x !== undefined && x !== null && x !== '');
    parts.push(picked.length > 0 ? picked.map(asText).join('\n') : JSON.stringify(body));
  } else if (body !== null && body !== '') {
    parts.push(asText(body));
  }
  for (const k of ['exception.message', 'exception.stacktrace']) {
    const v = attributes[k];
    if (v !== undefined && v !== null && v !== '') parts.push(asText(v));
  }
  return parts.join('\n');
}

/**
 * A decoded request (OTLP/JSON, or protobuf turned into the same shape) → one item per log record.
 * `ids`: OTLP/JSON writes trace and span ids in hex, protobufjs's toObject in base64.
 */
function records(request: unknown, ids: 'hex' | 'base64', fields: readonly string[]): Extracted[] {
  const out: Extracted[] = [];
  const req = objAt(request, '$');
  arrayAt(req, 'resourceLogs', '$').forEach((rl, i) => {
    const rlPath = `resourceLogs[${i}]`;
    const rlo = objAt(rl, rlPath);
    const res = rlo['resource'] === undefined || rlo['resource'] === null ? {} : objAt(rlo['resource'], `${rlPath}.resource`);
    const resourceAttributes = keyValues(arrayAt(res, 'attributes', `${rlPath}.resource`), `${rlPath}.resource.attributes`, 0);
    const resource = resourceFromAttributes(resourceAttributes);
    arrayAt(rlo, 'scopeLogs', rlPath).forEach((sl, j) => {
      const slPath = `${rlPath}.scopeLogs[${j}]`;
      const slo = objAt(sl, slPath);
      const scopeObj = isObj(slo['scope']) ? slo['scope'] : undefined;
      const scope = scopeObj ? { ...(typeof scopeObj['name'] === 'string' && scopeObj['name'] !== '' ? { name: scopeObj['name'] } : {}), ...(typeof scopeObj['version'] === 'string' && scopeObj['version'] !== '' ? { version: scopeObj['version'] } : {}) } : undefined;
      arrayAt(slo, 'logRecords', slPath).forEach((lr, k) => {
        const path = `${slPath}.logRecords[${k}]`;
        const r = objAt(lr, path);
        const attributes = keyValues(arrayAt(r, 'attributes', path), `${path}.attributes`, 0);
        const body = anyValue(r['body'], `${path}.body`, 0);
        const log: OtlpLogView = { body, attributes, resource: { attributes: resourceAttributes } };
        const severityText = typeof r['severityText'] === 'string' && r['severityText'] !== '' ? r['severityText'] : undefined;
        if (severityText !== undefined) log.severity_text = severityText;
        if (typeof r['severityNumber'] === 'number' && r['severityNumber'] !== 0) log.severity_number = r['severityNumber'];
        const time = int64(r['timeUnixNano'], `${path}.timeUnixNano`);
        if (time !== undefined && time !== '0') log.time_unix_nano = time;
        const observed = int64(r['observedTimeUnixNano'], `${path}.observedTimeUnixNano`);
        if (observed !== undefined && observed !== '0') log.observed_time_unix_nano = observed;
        const trace = traceId(r['traceId'], 16, ids, `${path}.traceId`);
        const span = traceId(r['spanId'], 8, ids, `${path}.spanId`);
        if (trace !== undefined) log.trace_id = trace;
        if (span !== undefined) log.span_id = span;
        if (typeof r['eventName'] === 'string' && r['eventName'] !== '') log.event_name = r['eventName'];
        if (scope && Object.keys(scope).length > 0) log.scope = scope;
        const context: EventContext = { resource };
        if (severityText !== undefined) context.severity_text = severityText;
        if (trace !== undefined) context.trace_id = trace;
        if (span !== undefined) context.span_id = span;
        out.push({ text: recordText(body, attributes, fields), log, json: true, context });
      });
    });
  });
  return out;
}

/** Decodes one Kafka message's value. Throws OtlpDecodeError for anything malformed. */
export function decodeOtlpLogs(value: Uint8Array, encoding: OtlpEncoding, fields: readonly string[]): Extracted[] {
  let request: unknown;
  try {
    if (encoding === 'proto') {
      const type = exportLogsServiceRequest();
      request = type.toObject(type.decode(value), { longs: String, enums: Number, bytes: String, defaults: false, arrays: true });
    } else {
      request = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
    }
    return records(request, encoding === 'proto' ? 'base64' : 'hex', fields);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw err;
    // protobufjs (truncated or invalid wire data), JSON.parse, or a stack overflow on hostile nesting.
    throw new OtlpDecodeError(`not an OTLP ${encoding === 'proto' ? 'protobuf' : 'JSON'} ExportLogsServiceRequest: ${(err as Error).message}`, { cause: err });
  }
}

const OTLP_JSON_START = /^\s*\{\s*"resourceLogs"\s*:/;
/** The bytes that OTLP_JSON_START's `\s` skips in a latin1 head: ASCII whitespace and 0xA0 (no-break space). */
const JSON_BLANK = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);
const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf', 'application/vnd.google.protobuf']);

/**
 * Which OTLP encoding a message is in, or null for a plain log. Configured (`otlp_json`,
 * `otlp_proto`) wins; with `auto`, a `content-type: application/x-protobuf` header means protobuf,
 * and a JSON object whose first key is `resourceLogs` means OTLP/JSON.
 */
export function otlpEncoding(format: string, contentType: string | undefined, value: Uint8Array): OtlpEncoding | null {
  if (format === 'otlp_proto') return 'proto';
  if (format === 'otlp_json') return 'json';
  if (format !== 'auto') return null;
  if (contentType !== undefined && PROTOBUF_TYPES.has(contentType.split(';')[0]!.trim().toLowerCase())) return 'proto';
  // Most messages are plain lines: look at the first non-blank byte before making a string of the head.
  let i = 0;
  while (i < value.length && i < 64 && JSON_BLANK.has(value[i]!)) i++;
  if (value[i] !== 0x7b /* { */) return null;
  const head = Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, 64)).toString('latin1');
  return OTLP_JSON_START.test(head) ? 'json' : null;
}
