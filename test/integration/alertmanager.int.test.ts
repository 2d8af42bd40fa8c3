/**
 * Alert enrichment end to end, with Debian's real Prometheus and Alertmanager on 127.0.0.1:
 * 1. logsift's own LogsiftSignatureSpike fires on a spike in a Kafka stream, Alertmanager groups it by
 *    signature and delivers it to a webhook receiver with root cause, workaround ids and the link.
 * 2. An alert raised elsewhere reaches logsift's relay (POST /v1/alertmanager) from Alertmanager and is
 *    forwarded enriched; an alert logsift cannot explain is forwarded untouched.
 */
import { readFileSync } from 'node:fs';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listen } from '../../src/http/index.js';
import { Alertmanager } from '../helpers/alertmanager.js';
import { MockCluster } from '../helpers/broker.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { produce } from '../helpers/kafka.js';
import { Prometheus } from '../helpers/prometheus.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

interface Notification {
  path: string;
  body: {
    status: string;
    groupLabels: Record<string, string>;
    alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  };
}

const RULES = join(REPO_ROOT, 'helm', 'logsift', 'files', 'logsift-rules.yml');
const SPIKES = { 'postgresql/too-many-clients': 'FATAL:  sorry, too many clients already', 'kubernetes/oomkilled': 'Last State: Terminated, Reason: OOMKilled' } as const;

let cluster: MockCluster;
let daemon: DaemonProcess;
let prom: Prometheus;
let am: Alertmanager;
let receiver: Server;
let dir: string;
let input: string;
const received: Notification[] = [];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logsift-alerting-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification['body'] });
      res.writeHead(200).end();
    });
  });
  const receiverUrl = `http://127.0.0.1:${(await listen(receiver, 0, '127.0.0.1')).port}`;
  cleanup.push(() => new Promise((r) => receiver.close(() => r())));

  cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  const [output, group] = ['out', 'group'].map(randomName);
  input = randomName('in');
  await cluster.createTopic(input, 2);
  await cluster.createTopic(output!, 2);
  await cluster.createTopic(`${output!}.dlq`, 1);
  daemon = await DaemonProcess.start({ brokers: cluster.brokers, input, output: output!, group: group!, env: { LOGSIFT_ALERTS_FORWARD_URL: `${receiverUrl}/forwarded`, LOGSIFT_ALERTS_FORWARD_TIMEOUT: '2s' } });
  cleanup.push(() => daemon.stop());
  await daemon.waitReady();
  const logsiftUrl = `http://127.0.0.1:${daemon.port}`;

  // The shipped route shape (group by signature for the spike alert) with short timers for a test.
  am = await Alertmanager.start(
    [
      'route:',
      '  receiver: default',
      '  group_by: [alertname]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      '  routes:',
      `    - matchers: ['alertname="LogsiftSignatureSpike"']`,
      '      group_by: [alertname, signature_id]',
      '      receiver: own',
      `    - matchers: ['source="elsewhere"']`,
      '      receiver: relay',
      'receivers:',
      '  - name: default',
      '  - name: own',
      `    webhook_configs: [{ url: "${receiverUrl}/own" }]`,
      '  - name: relay',
      `    webhook_configs: [{ url: "${logsiftUrl}/v1/alertmanager", send_resolved: true }]`,
    ].join('\n'),
  );
  cleanup.push(() => am.stop());

  // The shipped rules; only the spike alert's `for: 5m` is shortened so the test need not wait 5 min.
  const rules = readFileSync(RULES, 'utf8').replace(/(alert: LogsiftSignatureSpike[\s\S]*?)for: 5m/, '$1for: 0s');
  expect(rules).not.toEqual(readFileSync(RULES, 'utf8'));
  const rulesFile = join(dir, 'rules.yml');
  await writeFile(rulesFile, rules);
  prom = await Prometheus.start([`127.0.0.1:${daemon.port}`], [rulesFile], { alertmanager: am.address, externalLabels: { logsift_api_url: logsiftUrl } });
  cleanup.push(() => prom.stop());
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

describe("logsift's own alerts, delivered by Alertmanager", () => {
  it('fires LogsiftSignatureSpike on a spike, one notification per signature, with root cause, workarounds and link', async () => {
    const round = (n: number, tag: string) =>
      Object.entries(SPIKES).flatMap(([id, line]) => Array.from({ length: n }, (_, i) => ({ key: `${id}-${tag}-${i}`, value: `2026-11-23T10:00:00Z ERROR ${line} (${tag} ${i})` })));
    // A first trickle Prometheus sees, then the spike: rate() needs the counter to rise between scrapes.
    await produce(cluster.brokers, input, round(5, 'a'));
    await waitFor(async () => (await prom.query('sum(logsift_signature_matches_total)')).some((s) => Number(s.value[1]) >= 10), 'Prometheus to see the first matches', 60_000, 500);
    await produce(cluster.brokers, input, round(150, 'b'));

    const own = await waitFor(() => {
      const n = received.filter((r) => r.path === '/own');
      return new Set(n.map((x) => x.body.groupLabels['signature_id'])).size === 2 ? n : null;
    }, 'a spike notification for both signatures', 120_000, 500);

    for (const [id] of Object.entries(SPIKES)) {
      const forSig = own.filter((n) => n.body.groupLabels['signature_id'] === id);
      expect(forSig).toHaveLength(1); // grouped: 155 messages, one notification
      const alerts = forSig[0]!.body.alerts;
      expect(alerts).toHaveLength(1);
      const a = alerts[0]!;
      expect(a.labels['alertname']).toBe('LogsiftSignatureSpike');
      expect(a.annotations['signature_id']).toBe(id);
      const record = JSON.parse((await daemon.get(`/v1/signatures/${id}`)).body) as { root_cause: string; workarounds: { id: string }[] };
      expect(a.annotations['root_cause']).toBe(record.root_cause);
      expect(a.annotations['workaround_ids']).toBe(record.workarounds.map((w) => w.id).join(','));
      expect(a.annotations['signature_url']).toBe(`http://127.0.0.1:${daemon.port}/v1/signatures/${id}`);
      expect((await fetch(a.annotations['signature_url']!)).status).toBe(200);
    }
  });
});

describe('enriching alerts raised elsewhere (POST /v1/alertmanager)', () => {
  it('forwards an alert whose description holds a known error enriched, and another untouched', async () => {
    await am.post([
      { labels: { alertname: 'PgConnectionsExhausted', source: 'elsewhere', service: 'billing' }, annotations: { description: 'billing-api logs: FATAL:  sorry, too many clients already' } },
      { labels: { alertname: 'HighLatency', source: 'elsewhere', service: 'billing' }, annotations: { description: 'p99 latency over 2s for 10m' } },
    ]);
    const forwarded = await waitFor(() => {
      const alerts = received.filter((r) => r.path === '/forwarded').flatMap((r) => r.body.alerts);
      return alerts.some((a) => a.labels['alertname'] === 'PgConnectionsExhausted') && alerts.some((a) => a.labels['alertname'] === 'HighLatency') ? alerts : null;
    }, 'the relay to forward both alerts', 60_000, 300);
    const pg = forwarded.find((a) => a.labels['alertname'] === 'PgConnectionsExhausted')!;
    expect(pg.annotations['logsift_signature_id']).toBe('postgresql/too-many-clients');
    expect(pg.annotations['logsift_root_cause']).toMatch(/max_connections/);
    expect(pg.annotations['logsift_workaround_ids']).toContain('postgresql/too-many-clients#w1');
    expect(Number(pg.annotations['logsift_strength'])).toBeGreaterThanOrEqual(0.5);
    const latency = forwarded.find((a) => a.labels['alertname'] === 'HighLatency')!;
    expect(latency.annotations).toEqual({ description: 'p99 latency over 2s for 10m' });

    const metrics = (await daemon.get('/metrics')).body;
    expect(metrics).toMatch(/logsift_alerts_total\{outcome="enriched"\} [1-9]/);
    expect(metrics).toMatch(/logsift_alerts_total\{outcome="passed_through"\} [1-9]/);
    expect(metrics).toMatch(/logsift_alert_forwards_total\{result="delivered"\} [1-9]/);
  });
});
