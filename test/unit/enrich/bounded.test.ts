import { describe, expect, it } from 'vitest';

import { FIELD_BOUNDS, LOG_BOUNDS, TRUNCATED, boundedJson, boundedJsonOf, extractText, nestingUpperBound } from '../../../src/enrich/index.js';

/** An array `depth` levels deep with `inner` at the bottom, and its JSON text. */
function deep(depth: number, inner = '"x"'): { value: unknown; text: string } {
  const text = '['.repeat(depth) + inner + ']'.repeat(depth);
  return { value: JSON.parse(text) as unknown, text };
}

describe('boundedJson', () => {
  it('equals JSON.stringify within the bounds', () => {
    const v = { a: [1, 'two', null, true, { b: 'é\u2028"\\' }], __proto__x: 1, n: 9e20, s: '\ud800' };
    expect(boundedJson(v, LOG_BOUNDS)).toBe(JSON.stringify(v));
    expect(boundedJsonOf(v, JSON.stringify(v), LOG_BOUNDS)).toBe(JSON.stringify(v));
    expect(boundedJson('plain', LOG_BOUNDS)).toBe('"plain"');
  });

  it('replaces containers deeper than maxDepth by the marker (200,000 levels: no stack overflow)', () => {
    // Node 20 and 22 throw RangeError on JSON.stringify of this value; Node 26 does not: the bound
    // must hold whatever the runtime's own limits are.
    const { value, text } = deep(200_000);
    const out = boundedJsonOf(value, text, LOG_BOUNDS);
    const parsed = JSON.parse(out) as unknown;
    let cur = parsed;
    for (let d = 0; d < LOG_BOUNDS.maxDepth; d++) cur = (cur as unknown[])[0];
    expect(cur).toBe(TRUNCATED);
  });

  it('cuts strings, arrays and objects at the size budget, with the marker, as valid JSON', () => {
    const bounds = { maxDepth: 8, maxChars: 100 };
    const s = JSON.parse(boundedJson('y'.repeat(1000), bounds)) as string;
    expect(s.endsWith(`…${TRUNCATED}`)).toBe(true);
    expect(JSON.stringify(s).length).toBeLessThanOrEqual(100);
    const arr = JSON.parse(boundedJson(Array.from({ length: 1000 }, (_, i) => i), bounds)) as unknown[];
    expect(arr.at(-1)).toBe(TRUNCATED);
    const keys = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    const obj = JSON.parse(boundedJson(keys, bounds)) as Record<string, number>;
    expect(obj[TRUNCATED]).toBe(1000 - (Object.keys(obj).length - 1));
    // Escapes make strings longer than their characters: still within the budget.
    expect(boundedJson('\u0001'.repeat(1000), bounds).length).toBeLessThanOrEqual(100);
    // Never splits a surrogate pair.
    const emoji = JSON.parse(boundedJson('😀'.repeat(100), { maxDepth: 1, maxChars: 51 })) as string;
    expect(emoji).toMatch(/^(😀)+…\[logsift: truncated\]$/u);
  });

  it('nestingUpperBound stops early', () => {
    expect(nestingUpperBound('{"a":[[1]]}', 10)).toBe(3);
    expect(nestingUpperBound('['.repeat(100), 5)).toBe(6);
  });
});

describe('extractText with deep values', () => {
  it('scans a deep `message` as its bounded JSON text, and keeps the object as `log`', () => {
    const { text } = deep(200_000, '"connection refused"');
    const raw = `{"message":${text},"level":"error"}`;
    const e = extractText(raw, ['message'], 'auto');
    expect(e.json).toBe(true);
    expect(e.text.startsWith('['.repeat(FIELD_BOUNDS.maxDepth))).toBe(true);
    expect(e.text).toContain(TRUNCATED);
  });
});
