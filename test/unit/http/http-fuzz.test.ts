/**
 * Property test: random request lines, headers and bodies over raw TCP never take the server down
 * and never get a 5xx; after each one /healthz still answers 200.
 */
import type { Server } from 'node:http';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { createHttpServer, listen } from '../../../src/http/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { rawRequest } from '../../helpers/http.js';
import { kbOf, record } from '../../helpers/kb.js';

let server: Server;
let port: number;
const unexpected: unknown[] = [];

beforeAll(async () => {
  const kb = kbOf(record('db/too-many', 'too many clients'), record('net/refused', 'connection refused'));
  const matcher = await Matcher.create(kb, { cacheDir: null });
  const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  const metrics = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
  metrics.setKnowledgeBase(kb, matcher.info);
  // Short timeouts: a generated request that never completes is answered 408 quickly.
  server = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true }), enricher: () => enricher, limits: { headersTimeoutMs: 150, requestTimeoutMs: 300, keepAliveTimeoutMs: 100 }, onError: (err) => unexpected.push(err) });
  port = (await listen(server, 0, '127.0.0.1')).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
// Mostly well-formed, so most requests reach the handler rather than Node's parser.
const method = fc.oneof({ arbitrary: fc.constantFrom('GET', 'HEAD', 'POST'), weight: 6 }, fc.constantFrom('PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT'), token, fc.string({ maxLength: 8 }));
const segment = fc.oneof(
  fc.constantFrom('', '.', '..', '%2e%2e', '%2E%2e%2f', '%', '%zz', '%E0%A4%A', '%00', 'v1', 'signatures', 'match', 'metrics', 'healthz', 'readyz', 'db', 'too-many', '..%2f', '%c0%ae'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const printable = fc.stringMatching(/^[\x21-\x7e]{0,60}$/);
const target = fc.oneof(
  { arbitrary: fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`), weight: 4 },
  { arbitrary: printable.map((p) => `/${p}`), weight: 2 },
  fc.constantFrom('//', '*', 'http://evil.example/healthz', 'healthz', '/healthz?x=%zz', '/metrics#frag', `/${'a'.repeat(5000)}`, ''),
  fc.string({ maxLength: 40 }),
);
const version = fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 8 }, fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'http/1.1', ''));
const header = fc.oneof(
  { arbitrary: fc.tuple(token, fc.stringMatching(/^[\x20-\x7e]{0,30}$/)).map(([k, v]) => `${k}: ${v}`), weight: 4 },
  fc.tuple(token, fc.string({ maxLength: 30 })).map(([k, v]) => `${k}: ${v}`),
  fc.constantFrom('content-type: application/json', 'content-type: text/plain', 'content-type: x/y', 'transfer-encoding: chunked', 'content-length: -1', 'content-length: 99999999', 'content-length: 3', 'accept: application/openmetrics-text', 'expect: 100-continue', 'connection: upgrade', 'upgrade: websocket'),
  fc.string({ maxLength: 30 }),
);
const body = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 3 }),
  fc.record({ text: fc.string({ maxLength: 200 }) }).map((o) => JSON.stringify(o)),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
);
const request = fc.record({ method, target, version, headers: fc.array(header, { maxLength: 4 }), host: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, fc.constant(false)), body, lengthHeader: fc.boolean() });

describe('HTTP server under random requests', () => {
  it('answers every request without a 5xx and keeps answering /healthz', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers = [...(r.host ? ['host: 127.0.0.1'] : []), ...r.headers, ...(r.lengthHeader ? [`content-length: ${Buffer.byteLength(r.body, 'latin1')}`] : [])];
        const wire = Buffer.from(`${r.method} ${r.target} ${r.version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${r.body}`, 'latin1');
        const res = await rawRequest(port, [wire]);
        if (res.status !== null) expect(res.status, res.head).toBeLessThan(500);
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      }),
      { numRuns: 150 },
    );
    expect(unexpected).toEqual([]);
  });
});
