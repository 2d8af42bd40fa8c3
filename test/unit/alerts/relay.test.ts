/** POST /v1/alertmanager: enrich other systems' alerts with the KB, forward them without blocking. */
import { createServer, type IncomingMessage, type Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AlertForwarder, enrichAlerts, type ForwardResult, type WebhookPayload } from '../../../src/alerts/index.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { createHttpServer, listen } from '../../../src/http/index.js';
import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { STARTER_KB, TEST_CACHE_DIR } from '../../helpers/shared.js';
import { waitFor } from '../../helpers/wait.js';

let enricher: Enricher;

beforeAll(async () => {
  const { kb } = await loadKnowledgeBase([STARTER_KB]);
  enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
});

const alert = (labels: Record<string, string>, annotations: Record<string, string>): WebhookPayload['alerts'][number] => ({
  status: 'firing',
  labels,
  annotations,
  startsAt: '2026-11-23T10:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus/graph',
  fingerprint: Math.random().toString(16).slice(2),
});

const payload = (alerts: WebhookPayload['alerts']): WebhookPayload => ({
  version: '4',
  status: 'firing',
  receiver: 'logsift',
  groupKey: '{}:{}',
  truncatedAlerts: 0,
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://am',
  alerts,
});

describe('enrichAlerts', () => {
  it('adds the signature, root cause, workaround ids and strength to an alert whose text it explains', () => {
    const p = payload([alert({ alertname: 'PgErrors' }, { description: 'app logs: FATAL:  sorry, too many clients already' })]);
    const r = enrichAlerts(p, enricher, { textLabels: ['reason'] });
    expect(r).toMatchObject({ enriched: 1, passedThrough: 0 });
    const a = r.payload.alerts[0]!.annotations;
    expect(a['logsift_signature_id']).toBe('postgresql/too-many-clients');
    expect(a['logsift_root_cause']).toBe(enricher.kb.get('postgresql/too-many-clients')!.root_cause);
    expect(a['logsift_workaround_ids']).toBe(enricher.kb.workaroundIds(enricher.kb.indexOf('postgresql/too-many-clients')!).join(','));
    expect(Number(a['logsift_strength'])).toBeGreaterThanOrEqual(enricher.minStrength);
    expect(a['description']).toBe('app logs: FATAL:  sorry, too many clients already');
    expect(r.payload.alerts[0]!.labels).toEqual({ alertname: 'PgErrors' });
  });

  it('matches the configured labels too (kube-state-metrics puts the reason in a label)', () => {
    const p = payload([alert({ alertname: 'KubePodCrashLooping', reason: 'CrashLoopBackOff' }, { summary: 'Pod is crash looping.' })]);
    expect(enrichAlerts(p, enricher, { textLabels: ['reason'] }).payload.alerts[0]!.annotations['logsift_signature_id']).toBe('kubernetes/crashloopbackoff');
    expect(enrichAlerts(p, enricher, { textLabels: [] }).enriched).toBe(0);
  });

  it('passes alerts it cannot explain through untouched, and keeps unknown payload fields', () => {
    const latency = alert({ alertname: 'HighLatency' }, { description: 'p99 latency over 2s for 10m' });
    const p = payload([latency]);
    const r = enrichAlerts(p, enricher, { textLabels: ['reason'] });
    expect(r).toMatchObject({ enriched: 0, passedThrough: 1 });
    expect(r.payload.alerts[0]).toBe(latency);
    expect(r.payload['truncatedAlerts']).toBe(0);
    expect(r.payload['externalURL']).toBe('http://am');
  });
});

describe('POST /v1/alertmanager', () => {
  let server: Server;
  let base: string;
  let metrics: LogsiftMetrics;
  beforeAll(async () => {
    metrics = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
    server = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true }), enricher: () => enricher, alerts: { textLabels: ['reason'], forwarder: null } });
    base = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const post = (body: string, type = 'application/json'): Promise<Response> => fetch(`${base}/v1/alertmanager`, { method: 'POST', headers: { 'content-type': type }, body });

  it('answers the enriched payload and counts enriched and passed-through alerts', async () => {
    const p = payload([alert({ alertname: 'A' }, { description: 'FATAL:  sorry, too many clients already' }), alert({ alertname: 'B' }, { description: 'disk 91% full' })]);
    const res = await post(JSON.stringify(p));
    expect(res.status).toBe(200);
    const body = (await res.json()) as WebhookPayload;
    expect(body.alerts.map((a) => a.annotations['logsift_signature_id'] ?? null)).toEqual(['postgresql/too-many-clients', null]);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/logsift_alerts_total\{outcome="enriched"\} 1/);
    expect(text).toMatch(/logsift_alerts_total\{outcome="passed_through"\} 1/);
  });

  it('refuses what is not a version-4 webhook payload with a reason', async () => {
    expect((await post('{"version":"3","alerts":[]}')).status).toBe(400);
    const bad = await post('{"version":"4","alerts":[{"labels":{"a":1}}]}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/alerts\.0\.labels\.a/);
    expect((await post('not json')).status).toBe(400);
    expect((await post('{}', 'text/plain')).status).toBe(415);
    expect((await fetch(`${base}/v1/alertmanager`)).status).toBe(405);
  });
});

describe('AlertForwarder', () => {
  let target: Server;
  let url: string;
  let behaviour: 'ok' | 'fail-once' | 'fail' | 'hang' = 'ok';
  const received: unknown[] = [];
  let calls = 0;
  beforeAll(async () => {
    target = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls++;
        if (behaviour === 'hang') return; // never answers
        if (behaviour === 'fail' || (behaviour === 'fail-once' && calls === 1)) {
          res.writeHead(500).end();
          return;
        }
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200).end();
      });
    });
    url = `http://127.0.0.1:${(await listen(target, 0, '127.0.0.1')).port}/hook`;
  });
  afterAll(async () => {
    target.closeAllConnections();
    await new Promise((r) => target.close(r));
  });

  const forwarder = (o: Partial<{ retries: number; queueSize: number; timeoutMs: number }> = {}) => {
    const results: { result: ForwardResult; error?: string }[] = [];
    const f = new AlertForwarder({ url, timeoutMs: o.timeoutMs ?? 2_000, retries: o.retries ?? 2, queueSize: o.queueSize ?? 10, backoffMs: 10 }, { result: (result, error) => results.push({ result, ...(error ? { error } : {}) }) });
    return { f, results };
  };

  it('delivers, retrying a failed attempt', async () => {
    behaviour = 'fail-once';
    calls = 0;
    received.length = 0;
    const { f, results } = forwarder();
    expect(f.enqueue({ n: 1 })).toBe(true);
    await f.idle();
    expect(results).toEqual([{ result: 'delivered' }]);
    expect(received).toEqual([{ n: 1 }]);
    expect(calls).toBe(2);
  });

  it('gives up after its retries and says why', async () => {
    behaviour = 'fail';
    calls = 0;
    const { f, results } = forwarder({ retries: 1 });
    f.enqueue({ n: 2 });
    await f.idle();
    expect(results).toEqual([{ result: 'failed', error: 'HTTP 500' }]);
    expect(calls).toBe(2);
  });

  it('never blocks the caller on a hanging target: a bounded queue, then drops, each attempt timed out', async () => {
    behaviour = 'hang';
    const { f, results } = forwarder({ retries: 0, queueSize: 2, timeoutMs: 200 });
    // enqueue returns at once even though the target never answers.
    expect([f.enqueue({ n: 1 }), f.enqueue({ n: 2 }), f.enqueue({ n: 3 }), f.enqueue({ n: 4 })]).toEqual([true, true, true, false]);
    expect(results).toEqual([{ result: 'dropped' }]);
    await waitFor(() => results.length === 4, 'the queued payloads to time out');
    expect(results.filter((r) => r.result === 'failed').map((r) => r.error)).toEqual(['timed out after 200 ms', 'timed out after 200 ms', 'timed out after 200 ms']);
    await f.close(0);
    expect(f.enqueue({ n: 5 })).toBe(false);
  });
});
