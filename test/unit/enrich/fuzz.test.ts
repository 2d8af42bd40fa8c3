/**
 * Property-based tests of the one per-message path (Enricher.process) with poison-shaped input.
 * Each property: the function returns; every input has exactly one outcome; a clean message's
 * outcome is the same beside poison as alone. Run counts are bounded to keep the file fast.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher, LOG_BOUNDS, type MessageInput, type Outcome } from '../../../src/enrich/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { kbOf, record } from '../../helpers/kb.js';

const MAX_BYTES = 64 * 1024;
const kb = kbOf(
  record('net/refused', 'connection refused', { signature: 'connection refused' }),
  // Same signature and confidence: a tie, broken by the exact engine's span (in the worker: `.*`).
  record('net/refused-any', 'connection.*refused', { signature: 'connection refused' }),
  record('db/too-many', 'too many clients'),
  record('redos/lookahead', '(?=(a+)+b)a'),
);
const CLEAN = ['dial tcp 10.0.0.1:5432: connection refused', '{"level":"error","message":"FATAL: too many clients"}', 'all good here'];
const REDOS = `${'a'.repeat(32)}cab`;

let matcher: Matcher;
let enricher: Enricher;
beforeAll(async () => {
  matcher = await Matcher.create(kb, { cacheDir: null, exactBudgetMs: 50 });
  enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
});
afterAll(() => matcher.close());

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const nest = (depth: number, open: string, close: string, inner: string): string => open.repeat(depth) + inner + close.repeat(depth);

const field = fc.constantFrom('message', 'msg', 'log', 'error', 'stack', 'other', 'error.message');
const depth = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(31, 32, 33, 1000, 200_000));
const container = fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}'], ['[{"k":', '}]']);
const text = fc.constantFrom('connection refused', 'too many clients', '', '   ', 'x');

/** Poison-shaped messages, as bytes. */
const poison: fc.Arbitrary<Buffer | null> = fc.oneof(
  // Deep nesting inside a scanned field and outside it.
  fc.tuple(field, depth, container, text).map(([f, d, [o, c], t]) => bytes(`{"${f}":${nest(d, o, c, JSON.stringify(t))},"level":"error"}`)),
  fc.tuple(depth, container).map(([d, [o, c]]) => bytes(`{"message":"connection refused","ctx":${nest(d, o, c, '1')}}`)),
  fc.tuple(depth, container).map(([d, [o, c]]) => bytes(nest(d, o, c, '"connection refused"'))),
  // Huge arrays, many keys, duplicate keys, prototype keys.
  fc.integer({ min: 0, max: 20_000 }).map((n) => bytes(`{"message":[${Array(n).fill('"connection refused"').join(',')}]}`)),
  fc.integer({ min: 0, max: 5_000 }).map((n) => bytes(`{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}${n > 0 ? ',' : ''}"msg":"too many clients"}`)),
  fc.constantFrom(
    bytes('{"message":"x","message":"connection refused","message":{"message":1}}'),
    bytes('{"__proto__":{"message":"too many clients"},"constructor":{"prototype":{"x":1}},"message":"y"}'),
    bytes('{"message":{"__proto__":[1,2],"constructor":"connection refused"}}'),
    bytes('{"toString":1,"valueOf":"x","hasOwnProperty":2,"message":"connection refused"}'),
  ),
  // Escapes and bytes: lone surrogates, NUL and control characters, invalid UTF-8, BOMs, CRLF.
  fc.constantFrom(
    bytes('{"message":"\\ud800 connection refused \\udfff"}'),
    bytes('{"message":"\\u0000\\u0001\\u001f too many clients \\u007f"}'),
    bytes('connection \u0000 refused \u0007\u001b[31m'),
    Buffer.from([0x63, 0x6f, 0xff, 0xfe, 0x0a, 0xc3, 0x28]),
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate: invalid UTF-8
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('{"message":"connection refused"}')]),
    bytes('\ufeff\ufeffconnection refused'),
    bytes('{"message":"too many clients"}\r\n'),
    bytes('line one\r\nconnection refused\r\n'),
  ),
  // Empty and whitespace values, JSON that is not an object, broken JSON.
  fc.constantFrom('', ' ', '\t\r\n', '{}', '{"message":""}', '{"message":"  "}', '[]', '[1,2]', '"connection refused"', '42', 'null', 'true', '{"message":', '{]').map(bytes),
  // Very long tokens for the ranker (both tie records match).
  fc.integer({ min: 1, max: 60_000 }).map((n) => bytes(`connection ${'x'.repeat(n)} refused ${'y'.repeat(n)}`)),
  // Sizes at and around every limit: the message size, the log's fast path and budget.
  fc.constantFrom(MAX_BYTES - 1, MAX_BYTES, MAX_BYTES + 1, Math.floor(LOG_BOUNDS.maxChars / 6), Math.floor(LOG_BOUNDS.maxChars / 6) + 1).chain((n) =>
    fc.constantFrom(bytes(`connection refused ${'z'.repeat(Math.max(0, n - 19))}`), bytes(`{"message":"connection refused","pad":"${'z'.repeat(Math.max(0, n - 44))}"}`)),
  ),
  // A line that makes the exact engine backtrack exponentially (rare: each costs a worker restart).
  fc.constant(bytes(REDOS)),
  fc.constant(null),
);

function run(values: readonly (Buffer | null)[]): Outcome[] {
  const inputs: MessageInput[] = values.map((value, i) => ({ value, source: { file: 'fuzz', line: i + 1 } }));
  return enricher.process(inputs, { maxMessageBytes: MAX_BYTES });
}

/** What a consumer sees of an outcome. */
function seen(o: Outcome): string {
  return o.kind === 'poison' ? `poison:${o.code}` : `${o.kind}:${o.json}`;
}

describe('Enricher.process with poison-shaped input', () => {
  it('returns exactly one outcome per message, whatever the message', () => {
    fc.assert(
      fc.property(fc.array(poison, { minLength: 1, maxLength: 4 }), (values) => {
        const outcomes = run(values);
        expect(outcomes).toHaveLength(values.length);
        for (const o of outcomes) {
          expect(['event', 'unmatched', 'poison']).toContain(o.kind);
          if (o.kind !== 'poison') {
            expect(() => JSON.parse(o.json) as unknown).not.toThrow();
            expect(o.json.length).toBeLessThan(LOG_BOUNDS.maxChars + 64 * 1024);
          }
        }
      }),
      { numRuns: 60, seed: 11 },
    );
  });

  it('a clean message gets the same outcome beside poison as alone', () => {
    const alone = CLEAN.map((c, i) => seen(run([...Array<null>(i).fill(null), bytes(c)])[i]!));
    fc.assert(
      fc.property(fc.array(poison, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: CLEAN.length - 1 }), (values, which) => {
        // The clean message sits at line `which + 1` (same source as alone), poison around it.
        const batch: (Buffer | null)[] = [...Array<null>(which).fill(null), bytes(CLEAN[which]!), ...values];
        const outcomes = run(batch);
        expect(outcomes).toHaveLength(batch.length);
        expect(seen(outcomes[which]!)).toBe(alone[which]);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it('the ReDoS line is poison with LOGSIFT_CONFIRM_TIMEOUT; tombstones and over-long values are named', () => {
    const [r, t, big, bad] = run([bytes(REDOS), null, Buffer.alloc(MAX_BYTES + 1, 0x61), Buffer.from([0xff])]);
    expect(r).toMatchObject({ kind: 'poison', code: 'LOGSIFT_CONFIRM_TIMEOUT' });
    expect(t).toMatchObject({ kind: 'poison', code: 'LOGSIFT_EMPTY_VALUE' });
    expect(big).toMatchObject({ kind: 'poison', code: 'LOGSIFT_MESSAGE_TOO_LARGE' });
    expect(bad).toMatchObject({ kind: 'poison', code: 'LOGSIFT_INVALID_UTF8', detail: 'invalid UTF-8 at byte 0' });
  });
});
