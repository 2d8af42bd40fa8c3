/**
 * What an input carries beside its text: where the error happened (`resource`) and, for OTLP log
 * records, the severity and trace context. Optional event fields, placed between `source` and `log`.
 */
import { isEmptyResource, type EventResource } from './resource.js';

export interface EventContext {
  resource?: EventResource;
  severity_text?: string;
  /** 32 lowercase hex digits (W3C trace id). */
  trace_id?: string;
  /** 16 lowercase hex digits. */
  span_id?: string;
}

/** The context's fields that are set, in event order (resource, severity_text, trace_id, span_id). */
export function contextFields(c: EventContext | undefined): EventContext {
  if (c === undefined) return {};
  const out: EventContext = {};
  if (c.resource !== undefined && !isEmptyResource(c.resource)) out.resource = c.resource;
  if (c.severity_text !== undefined && c.severity_text !== '') out.severity_text = c.severity_text;
  if (c.trace_id !== undefined) out.trace_id = c.trace_id;
  if (c.span_id !== undefined) out.span_id = c.span_id;
  return out;
}

/** `,"resource":…,"severity_text":…` (empty when nothing is set), as JSON.stringify would write it. */
export function contextJson(c: EventContext | undefined): string {
  if (c === undefined) return '';
  const s = JSON.stringify(contextFields(c));
  return s === '{}' ? '' : `,${s.slice(1, -1)}`;
}
