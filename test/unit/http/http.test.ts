import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { MAX_MATCH_BODY_BYTES, createHttpServer, listen, type HttpDeps } from '../../../src/http/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { rawRequest } from '../../helpers/http.js';
import { kbOf, record } from '../../helpers/kb.js';

const exec = promisify(execFile);
const kb = kbOf(record('db/too-many', 'too many clients', { signature: 'FATAL: too many clients', official_doc_url: 'https://example.org/doc' }), record('net/refused', 'connection refused'));
let server: Server;
let base: string;
let port: number;
let metrics: LogsiftMetrics;
let enricher: Enricher;
let ready = true;
const servers: Server[] = [];

/** Another server on a free loopback port, closed after the file. */
async function serve(deps: Partial<HttpDeps>): Promise<number> {
  const s = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true }), enricher: () => enricher, ...deps });
  servers.push(s);
  return (await listen(s, 0, '127.0.0.1')).port;
}

beforeAll(async () => {
  const matcher = await Matcher.create(kb, { cacheDir: null });
  enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  metrics = new LogsiftMetrics({ signatureLabel: true });
  metrics.setKnowledgeBase(kb, matcher.info);
  server = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true, consumerJoined: ready }), notReadyReason: () => 'starting: test', enricher: () => enricher });
  port = (await listen(server, 0, '127.0.0.1')).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  for (const s of [server, ...servers]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const healthy = async (p = port): Promise<number> => (await fetch(`http://127.0.0.1:${p}/healthz`)).status;

describe('health', () => {
  it('/healthz is always ok; /readyz follows the components', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ready: true, kbLoaded: true, consumerJoined: true });
    ready = false;
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ ready: false, consumerJoined: false, reason: 'starting: test' });
    ready = true;
    expect((await fetch(`${base}/healthz`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});

describe('hostile and malformed requests', () => {
  const head = (line: string, headers = 'host: x\r\n') => `${line}\r\n${headers}\r\n`;
  const cases: [string, (string | Buffer)[], number][] = [
    ['`GET //` (crashed the process before)', [head('GET // HTTP/1.1')], 404],
    ['`GET //healthz`', [head('GET //healthz HTTP/1.1')], 404],
    ['an absolute-form target', [head('GET http://evil.example/healthz HTTP/1.1')], 400],
    ['an asterisk-form target', [head('OPTIONS * HTTP/1.1')], 400],
    ['an oversized target', [head(`GET /${'a'.repeat(3000)} HTTP/1.1`)], 414],
    ['a malformed percent-encoding', [head('GET /v1/signatures/%E0%A4%A HTTP/1.1')], 400],
    ['%2e%2e/ before a route', [head('GET /%2e%2e/metrics HTTP/1.1')], 400],
    ['..%2f inside an id', [head('GET /v1/signatures/..%2f..%2fetc%2fpasswd HTTP/1.1')], 400],
    ['a NUL byte', [head('GET /v1/signatures/a%00b HTTP/1.1')], 400],
    ['an unknown method', [head('FROB /healthz HTTP/1.1')], 400],
    ['a method the route does not take', [head('PUT /metrics HTTP/1.1', 'host: x\r\ncontent-length: 0\r\n')], 405],
    ['CONNECT', [head('CONNECT evil.example:443 HTTP/1.1')], 405],
    ['no Host header', ['GET /healthz HTTP/1.1\r\n\r\n'], 400],
    ['a bad request line', ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n'], 400],
    ['a huge header', [head('GET /healthz HTTP/1.1', `host: x\r\nx-junk: ${'j'.repeat(20_000)}\r\n`)], 431],
    ['a bad content-length', [head('POST /v1/match HTTP/1.1', 'host: x\r\ncontent-length: nope\r\n')], 400],
    ['a chunked body over the limit', [head('POST /v1/match HTTP/1.1', 'host: x\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n'), ...Array.from({ length: 5 }, () => `4000\r\n${'z'.repeat(0x4000)}\r\n`), '0\r\n\r\n'], 413],
    ['a JSON body that is not an object', [head('POST /v1/match HTTP/1.1', 'host: x\r\ncontent-type: application/json\r\ncontent-length: 4\r\n'), 'null'], 400],
    ['deeply nested JSON', [head('POST /v1/match HTTP/1.1', `host: x\r\ncontent-type: application/json\r\ncontent-length: ${60_000}\r\n`), '['.repeat(30_000) + ']'.repeat(30_000)], 400],
  ];
  it.each(cases)('%s gets a 4xx and the server stays up', async (_name, pieces, status) => {
    const r = await rawRequest(port, pieces);
    expect(r.status).toBe(status);
    expect(await healthy()).toBe(200);
  });

  it('answers slow or partial request heads with 408 (headersTimeout) and goes on', async () => {
    const p = await serve({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
    expect((await rawRequest(p, ['GET /healthz HTTP/1.1\r\nhost: x\r\n'])).status).toBe(408);
    expect(await healthy(p)).toBe(200);
  });

  it('answers a body that never completes with 408 (requestTimeout) and goes on', async () => {
    const p = await serve({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
    const r = await rawRequest(p, ['POST /v1/match HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nonly part']);
    expect(r.status).toBe(408);
    expect(await healthy(p)).toBe(200);
  });

  it('closes a keep-alive connection after maxRequestsPerSocket requests', async () => {
    const p = await serve({ limits: { maxRequestsPerSocket: 2 } });
    const req = 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n';
    // The third request on one socket is refused (503) and the connection closes.
    const all = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = connect(p, '127.0.0.1', () => s.write(req + req + req));
      const text = () => Buffer.concat(chunks).toString();
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        if ((text().match(/^HTTP\/1\.1 /gm) ?? []).length === 3 && text().endsWith('\n')) s.destroy();
      });
      s.on('close', () => resolve(text()));
    });
    expect(all.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 503']);
  });

  it('answers 500 for a failure of its own, reports it, and stays up', async () => {
    const errors: unknown[] = [];
    const broken = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
    vi.spyOn(broken, 'expose').mockRejectedValue(new Error('registry exploded'));
    const p = await serve({ metrics: broken, onError: (err) => errors.push(err) });
    const r = await fetch(`http://127.0.0.1:${p}/metrics`);
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ error: 'internal error' });
    expect(errors).toEqual([new Error('registry exploded')]);
    vi.restoreAllMocks();
    expect((await broken.expose(false)).body).toContain('logsift_unexpected_errors_total{source="http"} 1');
    expect(await healthy(p)).toBe(200);
  });

  it('serves only its routes: operational endpoints and the lookup API apart', async () => {
    const ops = await serve({ routes: 'ops' });
    const api = await serve({ routes: 'api' });
    expect((await fetch(`http://127.0.0.1:${ops}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ops}/v1/signatures/net/refused`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${ops}/v1/match`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${api}/v1/signatures/net/refused`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${api}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${api}/healthz`)).status).toBe(404);
  });
});

describe('lookup API', () => {
  it('GET /v1/signatures/{id} returns what it is and what fixes it', async () => {
    const r = await fetch(`${base}/v1/signatures/db/too-many`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({
      id: 'db/too-many',
      root_cause: 'root cause of db/too-many',
      official_doc_url: 'https://example.org/doc',
      workarounds: [{ id: 'db/too-many#w1', action: 'fix db/too-many' }, { id: 'custom-db/too-many' }],
      dead_ends: [{ id: 'db/too-many#d1', why_fails: 'because' }],
      kb_version: kb.version,
    });
    expect((await fetch(`${base}/v1/signatures/nope`)).status).toBe(404);
    expect((await fetch(`${base}/v1/signatures/db%2Ftoo-many`)).status).toBe(200);
  });

  it('POST /v1/match ranks the matches for a text, as JSON or plain text', async () => {
    const r = await fetch(`${base}/v1/match`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'FATAL: too many clients; connection refused' }) });
    const body = (await r.json()) as { signature_id: string; matches: { id: string; workaround_ids: string[] }[] };
    expect(body.signature_id).toBe('db/too-many');
    expect(body.matches.map((m) => m.id)).toEqual(['db/too-many', 'net/refused']);
    const plain = await fetch(`${base}/v1/match`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'nothing here' });
    expect(await plain.json()).toMatchObject({ signature_id: null, matches: [] });
  });

  it('answers bad requests with clear 4xx errors and changes nothing', async () => {
    const post = (body: string, type = 'application/json') => fetch(`${base}/v1/match`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('{bad')).status).toBe(400);
    expect((await post('{"txt":1}')).status).toBe(400);
    expect((await post('x', 'application/xml')).status).toBe(415);
    const big = await post(JSON.stringify({ text: 'x'.repeat(MAX_MATCH_BODY_BYTES) }));
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: `body over ${MAX_MATCH_BODY_BYTES} bytes` });
    expect((await fetch(`${base}/v1/match`)).status).toBe(405);
    expect((await fetch(`${base}/v1/signatures/db/too-many`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${base}/admin`)).status).toBe(404);
  });
});

describe('/metrics', () => {
  it('passes promtool check metrics, with per-signature counts and exemplars in OpenMetrics', async () => {
    metrics.batch({
      topic: 'in', partition: 0, messages: 3, bytes: 120, matched: 2, weak: 1, unmatched: 1, deadLettered: 0, produced: 3,
      scanSeconds: 0.001, produceSeconds: 0.002, commitSeconds: 0.001, totalSeconds: 0.004, lag: 7,
      primaries: [kb.records[0]!, kb.records[0]!], dlqReasons: [], traceId: '0af7651916cd43dd8448eb211c80319c',
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('logsift_signature_matches_total{signature_id="db/too-many",domain="test",category="test_error"} 2');
    expect(text).toContain('logsift_consumer_lag_messages{topic="in",partition="0"} 7');
    expect(text).toContain('logsift_weak_matches_total 1');
    expect(text).toContain(`logsift_knowledge_base_info{kb_version="${kb.version}"} 1`);
    expect(text).toContain('nodejs_heap_size_used_bytes');
    const dir = await mkdtemp(join(tmpdir(), 'logsift-promtool-'));
    try {
      await writeFile(join(dir, 'metrics.txt'), text);
      const { stdout, stderr } = await exec('sh', ['-c', `promtool check metrics < ${join(dir, 'metrics.txt')}`]);
      expect(`${stdout}${stderr}`).not.toMatch(/error/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const om = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.headers.get('content-type')).toMatch(/application\/openmetrics-text/);
    const omText = await om.text();
    expect(omText).toMatch(/logsift_signature_matches_total\{signature_id="db\/too-many",domain="test",category="test_error"\} 2 # \{trace_id="0af7651916cd43dd8448eb211c80319c"\} 2/);
    expect(omText.trimEnd().endsWith('# EOF')).toBe(true);
    // An OpenMetrics scrape must not change the text format served afterwards.
    const again = await (await fetch(`${base}/metrics`)).text();
    expect(again).toContain('# TYPE logsift_messages_total counter');
    expect(again).toContain('logsift_signature_matches_total{signature_id="db/too-many"');
  });

  it('retires the series of signatures removed from the KB on reload', async () => {
    const m = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
    const info = { patterns: { native: 2, prefilter: 0, fallback: 0, rejected: 0 }, databaseBytes: 1, fromCache: false, buildSeconds: 0.1, hyperscanVersion: 'x' };
    m.setKnowledgeBase(kb, info);
    m.countMatches([kb.records[0]!, kb.records[1]!]);
    expect((await m.expose(false)).body).toContain('signature_id="net/refused"');
    const smaller = kbOf(record('db/too-many', 'too many clients'));
    m.setKnowledgeBase(smaller, info);
    const after = (await m.expose(false)).body;
    expect(after).not.toContain('signature_id="net/refused"');
    expect(after).toContain('signature_id="db/too-many"');
    expect(after).toContain(`logsift_knowledge_base_info{kb_version="${smaller.version}"} 1`);
    expect(after).not.toContain(`kb_version="${kb.version}"`);
  });

  it('can aggregate by domain and category without signature_id', async () => {
    const m = new LogsiftMetrics({ signatureLabel: false, processMetrics: false });
    m.setKnowledgeBase(kb, { patterns: { native: 2, prefilter: 0, fallback: 0, rejected: 0 }, databaseBytes: 1, fromCache: false, buildSeconds: 0.1, hyperscanVersion: 'x' });
    m.countMatches([kb.records[0]!, kb.records[1]!, kb.records[1]!]);
    expect((await m.expose(false)).body).toContain('logsift_signature_matches_total{domain="test",category="test_error"} 3');
  });
});
