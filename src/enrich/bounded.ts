/**
 * Bounded JSON serialization of input-shaped values: a depth and a size limit, so no message can make
 * serialization throw (`JSON.stringify` of an array 200,000 levels deep overflows the stack) or blow
 * an event past what Kafka accepts. What is cut is marked with `TRUNCATED`, never dropped silently:
 *
 * - a container nested deeper than `maxDepth` is replaced by the string `"[logsift: truncated]"`;
 * - a string that does not fit ends with `…[logsift: truncated]`;
 * - an array that does not fit ends with the element `"[logsift: truncated]"`, an object with the key
 *   `"[logsift: truncated]"` whose value is the number of members left out.
 *
 * The output is always valid JSON of at most `maxChars` UTF-16 code units plus the closing brackets
 * and markers of the open containers (≤ maxDepth · 24 characters).
 */

export const TRUNCATED = '[logsift: truncated]';
const TRUNCATED_JSON = JSON.stringify(TRUNCATED);
const STRING_MARK = `…${TRUNCATED}`;

export interface JsonBounds {
  /** Containers nested deeper than this are replaced by the marker. */
  maxDepth: number;
  /** Budget of the serialized text, in UTF-16 code units. */
  maxChars: number;
}

/** What the event's `log` may carry: 32 levels, 256 KiB of serialized JSON (≤ 768 KiB of UTF-8). */
export const LOG_BOUNDS: JsonBounds = { maxDepth: 32, maxChars: 256 * 1024 };
/** `output.includeLog: truncated`: the event's `log` within 8 levels and 1 KiB of serialized JSON. */
export const LOG_TRUNCATED_BOUNDS: JsonBounds = { maxDepth: 8, maxChars: 1024 };
/** What a non-string field contributes to the scanned text. */
export const FIELD_BOUNDS: JsonBounds = { maxDepth: 32, maxChars: 1024 * 1024 };

/** Upper bound of the bracket nesting of a JSON text (brackets inside strings count too: conservative). */
export function nestingUpperBound(json: string, stopAbove: number): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > stopAbove) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Serializes a JSON value parsed from `raw` within the bounds. Fast path: when the source text is
 * small and shallow, `JSON.stringify` cannot overflow nor exceed the budget (a number grows at most
 * 5.25× when re-serialized, `9E20` → `900000000000000000000`; everything else shrinks or stays).
 */
export function boundedJsonOf(value: unknown, raw: string, bounds: JsonBounds): string {
  if (raw.length * 6 <= bounds.maxChars && nestingUpperBound(raw, bounds.maxDepth) <= bounds.maxDepth) return JSON.stringify(value) ?? 'null';
  return boundedJson(value, bounds);
}

/** Serializes any JSON-like value (from JSON.parse, or a string) within the bounds. */
export function boundedJson(value: unknown, bounds: JsonBounds): string {
  const state = { left: bounds.maxChars };
  return write(value, 0, bounds.maxDepth, state);
}

function cutString(s: string, budget: number): string {
  // Escapes make the serialized form longer than the string: shrink until it fits.
  let keep = Math.max(0, budget - STRING_MARK.length - 2);
  for (;;) {
    let end = Math.min(keep, s.length);
    const last = s.charCodeAt(end - 1);
    if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--; // do not split a surrogate pair
    const out = JSON.stringify(s.slice(0, end) + STRING_MARK);
    if (out.length <= Math.max(budget, STRING_MARK.length + 2) || end === 0) return out;
    keep = Math.floor(end / 2);
  }
}

function write(value: unknown, depth: number, maxDepth: number, state: { left: number }): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') {
    const s = JSON.stringify(value);
    state.left -= s.length;
    return s;
  }
  if (typeof value === 'string') {
    let s = JSON.stringify(value);
    if (s.length > state.left) s = cutString(value, state.left);
    state.left -= s.length;
    return s;
  }
  if (typeof value !== 'object') {
    // undefined, functions, symbols, bigints cannot come from JSON.parse; serialize like null.
    state.left -= 4;
    return 'null';
  }
  if (depth >= maxDepth) {
    state.left -= TRUNCATED_JSON.length;
    return TRUNCATED_JSON;
  }
  if (Array.isArray(value)) {
    const parts: string[] = [];
    state.left -= 2;
    for (let i = 0; i < value.length; i++) {
      if (state.left <= 0) {
        parts.push(TRUNCATED_JSON);
        break;
      }
      parts.push(write(value[i], depth + 1, maxDepth, state));
      state.left -= 1;
    }
    return `[${parts.join(',')}]`;
  }
  const parts: string[] = [];
  state.left -= 2;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    if (state.left <= 0) {
      parts.push(`${TRUNCATED_JSON}:${keys.length - i}`);
      break;
    }
    const k = keys[i]!;
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    let key = JSON.stringify(k);
    if (key.length > state.left) key = cutString(k, state.left);
    state.left -= key.length + 2;
    parts.push(`${key}:${write(v, depth + 1, maxDepth, state)}`);
  }
  return `{${parts.join(',')}}`;
}
