import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { MAX_MATCH_BODY_BYTES, createHttpServer, listen } from '../../../src/http/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { kbOf, record } from '../../helpers/kb.js';

const exec = promisify(execFile);
const kb = kbOf(record('db/too-many', 'too many clients', { signature: 'FATAL: too many clients', official_doc_url: 'https://example.org/doc' }), record('net/refused', 'connection refused'));
let server: Server;
let base: string;
let metrics: LogsiftMetrics;
let ready = true;

beforeAll(async () => {
  const matcher = await Matcher.create(kb, { cacheDir: null });
  const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  metrics = new LogsiftMetrics({ signatureLabel: true });
  metrics.setKnowledgeBase(kb, matcher.info);
  server = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true, consumerJoined: ready }), enricher: () => enricher });
  base = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('health', () => {
  it('/healthz is always ok; /readyz follows the components', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ ready: true, kbLoaded: true, consumerJoined: true });
    ready = false;
    const r = await fetch(`${base}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ ready: false, consumerJoined: false });
    ready = true;
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
      primaries: [0, 0], dlqReasons: [], traceId: '0af7651916cd43dd8448eb211c80319c',
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
    m.countMatches([0, 1]);
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
    m.countMatches([0, 1, 1]);
    expect((await m.expose(false)).body).toContain('logsift_signature_matches_total{domain="test",category="test_error"} 3');
  });
});
