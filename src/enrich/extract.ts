/**
 * Which text of a message is scanned. JSON logs (an object on one message) are scanned on their
 * message fields; everything else, including JSON without any of those fields, as raw text (after
 * its syslog header, if it has one).
 */
import type { EventContext } from './context.js';
import { resourceFromLog } from './resource.js';
import { parseSyslog } from './syslog.js';

import { FIELD_BOUNDS, boundedJson } from './bounded.js';

export const DEFAULT_MESSAGE_FIELDS = [
  'message',
  'msg',
  'log',
  'error.message',
  'error.stack_trace',
  'exception',
  'stack',
  'body',
  // syslog-ng's format-json templates ($(format-json --scope rfc5424 …)) write the message here.
  'MESSAGE',
] as const;

export type InputFormat = 'auto' | 'raw' | 'json';
/** The daemon's `input.format`: a text format, or OTLP logs (one message, many records). */
export type MessageFormat = InputFormat | 'otlp_json' | 'otlp_proto';

/** The text format for the non-OTLP messages of a stream (`auto` beside OTLP). */
export function textFormat(format: MessageFormat): InputFormat {
  return format === 'otlp_json' || format === 'otlp_proto' ? 'auto' : format;
}

export interface Extracted {
  /** The text the matcher scans. */
  text: string;
  /** The parsed JSON object, or the raw string. Goes into the event's `log`. */
  log: unknown;
  json: boolean;
  /** Where the error happened (and, for OTLP, severity and trace context), when the input says. */
  context?: EventContext;
}

/** A field by dotted path: a literal dotted key (`"error.message": …`) wins over nesting. */
export function getField(obj: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, path)) return obj[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  // Try every split so "a.b.c" finds {a:{"b.c":…}} and {"a.b":{c:…}} as well as {a:{b:{c:…}}}.
  for (let i = dot; i >= 0; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    const child = obj[head];
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const found = getField(child as Record<string, unknown>, path.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function asText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // Bounded: a field nested 200,000 levels deep must not overflow the stack (see bounded.ts).
  return boundedJson(value, FIELD_BOUNDS);
}

export class JsonRequiredError extends Error {}

/**
 * `auto`: an object-looking message is parsed as JSON if it parses; `json`: it must parse (otherwise
 * JsonRequiredError, which the daemon dead-letters); `raw`: never parsed.
 */
export function extractText(raw: string, fields: readonly string[], format: InputFormat = 'auto'): Extracted {
  if (format === 'raw') return { text: raw, log: raw, json: false };
  const first = raw.charCodeAt(raw.search(/\S/));
  if (first !== 0x7b /* { */) {
    if (format === 'json') throw new JsonRequiredError('message is not a JSON object');
    return rawText(raw);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    if (format === 'json') throw new JsonRequiredError(`message is not valid JSON: ${(err as Error).message}`);
    return { text: raw, log: raw, json: false };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    if (format === 'json') throw new JsonRequiredError('message is not a JSON object');
    return { text: raw, log: raw, json: false };
  }
  const parts: string[] = [];
  for (const f of fields) {
    const t = asText(getField(parsed as Record<string, unknown>, f));
    if (t !== null && t !== '') parts.push(t);
  }
  const out: Extracted = { text: parts.length > 0 ? parts.join('\n') : raw, log: parsed, json: true };
  const resource = resourceFromLog(parsed as Record<string, unknown>);
  for (const _ in resource) {
    out.context = { resource };
    break;
  }
  return out;
}

/** A raw line: a syslog header is cut off the scanned text and gives host and app name. */
function rawText(raw: string): Extracted {
  const sys = parseSyslog(raw);
  if (sys === null) return { text: raw, log: raw, json: false };
  const resource: NonNullable<EventContext['resource']> = {};
  if (sys.appName !== null) resource['service.name'] = sys.appName;
  if (sys.hostname !== null) resource['host.name'] = sys.hostname;
  return { text: sys.message, log: raw, json: false, context: { resource } };
}
