/**
 * Observability checked with real tools: Debian's Prometheus scrapes a daemon that processed a known
 * stream; per-signature counts come back through the query API; the shipped alerting rules load and
 * evaluate; every dashboard and rule query runs and names existing series; promtool accepts the
 * live exposition. The daemon runs with metrics.labels [service.name, k8s.namespace.name] and a
 * value limit of 2, so the service labels and their cap are checked too.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type TestCluster } from '../helpers/broker.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { produce, readAll } from '../helpers/kafka.js';
import { Prometheus } from '../helpers/prometheus.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

const RULES = join(REPO_ROOT, 'helm', 'logsift', 'files', 'logsift-rules.yml');
const DASHBOARD = join(REPO_ROOT, 'helm', 'logsift', 'files', 'logsift-dashboard.json');

let cluster: TestCluster;
let daemon: DaemonProcess;
let prom: Prometheus;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  cleanup.push(() => cluster.stop());
  const [input, output, dlq, group] = ['in', 'out', 'dlq', 'group'].map(randomName);
  await cluster.createTopic(input!, 2);
  await cluster.createTopic(output!, 2);
  await cluster.createTopic(dlq!, 1);
  // The PostgreSQL errors come from three services (Fluent Bit kubernetes-filter JSON, in offset
  // order on partition 0, so api and web take the two label slots and worker becomes "other").
  const services = ['api', 'web', 'worker'];
  const stream = [
    ...Array.from({ length: 30 }, (_, i) => ({
      key: `pg${i}`,
      partition: 0,
      value: JSON.stringify({ log: `2026-11-23 ERROR FATAL:  sorry, too many clients already (conn ${i})\n`, kubernetes: { namespace_name: 'shop', labels: { app: services[Math.floor(i / 10)] } } }),
    })),
    ...Array.from({ length: 20 }, (_, i) => ({ key: `oom${i}`, partition: 1, value: `pod api-${i}: Last State: Terminated Reason: OOMKilled` })),
    ...Array.from({ length: 10 }, (_, i) => ({ key: `ok${i}`, value: `GET /healthz 200 ${i}ms` })),
    { key: 'poison', value: Buffer.from([0x66, 0xff, 0xfe]) },
  ];
  await produce(cluster.brokers, input!, stream);
  daemon = await DaemonProcess.start({ brokers: cluster.brokers, input: input!, output: output!, group: group!, dlq: dlq!, env: { LOGSIFT_METRICS_LABELS: 'service.name,k8s.namespace.name', LOGSIFT_METRICS_LABEL_VALUE_LIMIT: '2' } });
  cleanup.push(() => daemon.stop());
  await waitFor(async () => (await readAll(cluster.brokers, output!)).length >= 50 && (await readAll(cluster.brokers, dlq!)).length >= 1, 'the stream to be processed');
  prom = await Prometheus.start([`127.0.0.1:${daemon.port}`], [RULES]);
  cleanup.push(() => prom.stop());
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

/** Grafana's variables, as the dashboard would send them. */
const grafana = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$job', '.*').replaceAll('$service', '.*');
const metricNames = (expr: string) => [...new Set(expr.match(/\blogsift_[a-z_]+/g) ?? [])];

describe('Prometheus scrapes logsift', () => {
  it('reports the per-signature counts of the processed stream', async () => {
    const counts = await waitFor(async () => {
      const r = await prom.query('sum by (signature_id) (logsift_signature_matches_total)');
      const m = Object.fromEntries(r.map((s) => [s.metric['signature_id'], Number(s.value[1])]));
      return m['postgresql/too-many-clients'] === 30 && m['kubernetes/oomkilled'] === 20 ? m : null;
    }, 'the counts in Prometheus', 60_000, 500);
    expect(Object.keys(counts).sort()).toEqual(['kubernetes/oomkilled', 'postgresql/too-many-clients']);
    const outcomes = Object.fromEntries((await prom.query('sum by (outcome) (logsift_messages_total)')).map((s) => [s.metric['outcome'], Number(s.value[1])]));
    expect(outcomes).toEqual({ matched: 50, unmatched: 10, dead_lettered: 1 });
    const dlq = await prom.query('logsift_dead_letter_messages_total');
    expect(dlq.map((s) => [s.metric['reason'], s.value[1]])).toEqual([['LOGSIFT_INVALID_UTF8', '1']]);
    const info = await prom.query('logsift_signature_info{signature_id="postgresql/too-many-clients"}');
    expect(info[0]!.metric['workaround_ids']).toBe('postgresql/too-many-clients#w1,postgresql/too-many-clients#w2');
  });

  it('labels matches by service and namespace, capped at the value limit', async () => {
    const byService = Object.fromEntries(
      (await prom.query('sum by (signature_id, service_name, k8s_namespace_name) (logsift_signature_matches_total)')).map((s) => [`${s.metric['signature_id']} ${s.metric['service_name'] ?? '-'} ${s.metric['k8s_namespace_name'] ?? '-'}`, Number(s.value[1])]),
    );
    expect(byService).toEqual({
      'postgresql/too-many-clients api shop': 10,
      'postgresql/too-many-clients web shop': 10,
      'postgresql/too-many-clients other shop': 10,
      'kubernetes/oomkilled - -': 20,
    });
    const overflow = Object.fromEntries((await prom.query('logsift_metric_label_overflow_total')).map((s) => [s.metric['label'], Number(s.value[1])]));
    expect(overflow).toEqual({ service_name: 10, k8s_namespace_name: 0 });
    expect(daemon.logs.filter((l) => l['code'] === 'LOGSIFT_METRIC_LABEL_OVERFLOW').map((l) => l['label'])).toEqual(['service_name']);
  });

  it('loads and evaluates every shipped alerting rule', async () => {
    const groups = await waitFor(async () => {
      const data = await prom.api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules', {});
      const rules = data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => r.health === 'ok') ? rules : null;
    }, 'rules to evaluate healthily', 30_000, 500);
    expect(groups.map((r) => r.name)).toEqual(['LogsiftSignatureSpike', 'LogsiftDeadLettersGrowing', 'LogsiftConsumerLagGrowing', 'LogsiftNotReady', 'LogsiftProduceErrors', 'LogsiftKnowledgeBaseReloadFailed']);
    // The spike alert's join gives its annotations the root cause and workaround ids.
    const pg = await waitFor(async () => {
      const spike = await prom.query(
        'sum by (signature_id, domain, category, service_name) (rate(logsift_signature_matches_total[5m])) * on (signature_id) group_left (root_cause, workaround_ids) max by (signature_id, root_cause, workaround_ids) (logsift_signature_info)',
      );
      return spike.find((s) => s.metric['signature_id'] === 'postgresql/too-many-clients' && s.metric['service_name'] === 'api');
    }, 'two samples for rate()', 30_000, 500);
    // One series per service: the alert's annotations name it.
    expect(pg?.metric['service_name']).toBe('api');
    expect(pg?.metric['root_cause']).toMatch(/max_connections/);
    expect(pg?.metric['workaround_ids']).toContain('postgresql/too-many-clients#w1');
  });

  it('runs every dashboard and rule query, each naming existing series', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const ruleExprs = [...readFileSync(RULES, 'utf8').matchAll(/expr: (?:\|\n((?: {10}.*\n?)+)|(.*))/g)].map((m) => (m[1] ?? m[2]!).trim());
    expect(ruleExprs).toHaveLength(6);
    const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((t) => grafana(t.expr))), ...ruleExprs];
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(9);
    const missing: string[] = [];
    for (const expr of exprs) {
      await prom.query(expr); // throws on a bad query
      for (const name of metricNames(expr)) if (!(await prom.seriesExist(name))) missing.push(`${name} (in ${expr.slice(0, 60)}…)`);
    }
    expect(missing).toEqual([]);
  });

  it('passes promtool check metrics on the live exposition', async () => {
    const body = (await daemon.get('/metrics')).body;
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 30_000 });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});
