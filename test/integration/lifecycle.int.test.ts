/**
 * Every path of `logsift run` ends by the documented rule (README "Daemon lifecycle"), on real
 * processes: Kafka never reachable → not ready, then exit 3 after kafka.startTimeout; SIGTERM while
 * starting → exits at once; shutdown past the grace period, or a second signal → exit 4.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { ThreadNames } from '../../src/app/worker-pool.js';
import { MockCluster } from '../helpers/broker.js';
import { DaemonProcess, metric, unexpectedErrors } from '../helpers/daemon.js';
import { produce } from '../helpers/kafka.js';
import { freePort } from '../helpers/prometheus.js';
import { randomName, waitFor } from '../helpers/wait.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  expect(unexpectedErrors()).toEqual([]);
});

async function daemon(brokers: string[], env: Record<string, string>, topics = { input: 'in', output: 'out' }): Promise<DaemonProcess> {
  const d = await DaemonProcess.start({ brokers, input: topics.input, output: topics.output, group: randomName('group'), env }, true);
  cleanup.push(() => d.stop());
  return d;
}

/** Resolves with the exit code; fails the test if the process is still running after `ms`. */
async function exitWithin(d: DaemonProcess, ms: number): Promise<number | null> {
  await waitFor(() => d.exitStatus !== undefined, 'the process to exit', ms);
  return d.wait();
}

describe('daemon lifecycle', () => {
  it('reports not ready while Kafka is unreachable, then exits 3 after kafka.startTimeout', async () => {
    const d = await daemon([`127.0.0.1:${await freePort()}`], { LOGSIFT_KAFKA_START_TIMEOUT: '5s', LOGSIFT_KAFKA_CONNECTION_TIMEOUT: '1s' });
    expect((await d.get('/healthz')).status).toBe(200);
    const ready = await d.get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: false, producerConnected: false, reason: expect.stringMatching(/^starting/) });
    expect(await exitWithin(d, 30_000)).toBe(3);
    expect(d.logs.find((l) => l.level === 60)?.msg).toMatch(/within kafka.startTimeout \(5000 ms\); exiting with 3/);
  });

  it('exits promptly on SIGTERM while still starting', async () => {
    const d = await daemon([`127.0.0.1:${await freePort()}`], { LOGSIFT_KAFKA_START_TIMEOUT: '10m', LOGSIFT_KAFKA_CONNECTION_TIMEOUT: '1s', LOGSIFT_SHUTDOWN_GRACE_PERIOD: '5s' });
    expect((await d.get('/readyz')).status).toBe(503);
    d.kill('SIGTERM');
    // Well inside the 10-minute start timeout: the signal, not the timeout, ended it.
    expect(await exitWithin(d, 20_000)).toBe(0);
    expect(d.hasLog(/shutting down/)).toBe(true);
    expect(d.hasLog(/startTimeout/)).toBe(false);
  });

  it('exits 0 on SIGTERM at any point of its start, also before it serves HTTP (never killed by the signal)', async () => {
    // Loading the KB, starting the workers, serving HTTP, setting up the KB watcher: a signal in any of
    // them once took Node's default action (no exit code, no log line), also after /readyz had answered.
    for (const at of [/^starting logsift run/, /^enrichment workers ready/, /^serving/]) {
      const d = DaemonProcess.spawn({ brokers: [`127.0.0.1:${await freePort()}`], input: 'in', output: 'out', group: randomName('group'), env: { LOGSIFT_KAFKA_START_TIMEOUT: '10m' } });
      cleanup.push(() => d.stop());
      await waitFor(() => d.hasLog(at), `the log line ${String(at)}`, 60_000);
      d.kill('SIGTERM');
      expect(await exitWithin(d, 20_000), `SIGTERM after ${String(at)}`).toBe(0);
      expect(d.hasLog(/shutting down/)).toBe(true);
    }
    // A SIGHUP while starting is not lost either (nor fatal): the KB is reloaded once the daemon runs.
    const d = DaemonProcess.spawn({ brokers: [`127.0.0.1:${await freePort()}`], input: 'in', output: 'out', group: randomName('group'), env: { LOGSIFT_KAFKA_START_TIMEOUT: '10m' } });
    cleanup.push(() => d.stop());
    await waitFor(() => d.hasLog(/^starting logsift run/), 'the first log line', 60_000);
    d.kill('SIGHUP');
    await waitFor(() => d.hasLog(/^SIGHUP during start: reloading/) && d.hasLog(/^serving/), 'the reload after start', 60_000);
    expect(d.exitStatus).toBeUndefined();
    d.kill('SIGTERM');
    expect(await exitWithin(d, 20_000)).toBe(0);
  });

  it('retries a start that fails (unknown input topic), cleans up each attempt, and exits 3 at the deadline', async () => {
    const cluster = await MockCluster.start();
    cleanup.push(() => cluster.stop());
    const output = randomName('out');
    await cluster.createTopic(output, 1);
    const d = await daemon(cluster.brokers, { LOGSIFT_KAFKA_START_TIMEOUT: '20s' }, { input: randomName('missing'), output });
    const failed = await waitFor(async () => {
      const r = await d.get('/readyz');
      const body = JSON.parse(r.body) as { reason?: string; producerConnected: boolean };
      return r.status === 503 && /attempt \d+ failed/.test(body.reason ?? '') ? body : null;
    }, 'a failed start attempt in /readyz', 30_000);
    // The failed attempt disconnected the producer it had connected.
    expect(failed.producerConnected).toBe(false);
    expect(d.hasLog(/Kafka start failed; retrying/)).toBe(true);
    expect(await exitWithin(d, 60_000)).toBe(3);
  });

  it('serves the lookup API on its own listener when http.api.port is set, and only there', async () => {
    const d = await daemon([`127.0.0.1:${await freePort()}`], { LOGSIFT_KAFKA_START_TIMEOUT: '10m', LOGSIFT_HTTP_API_PORT: '0' });
    const apiPort = (await waitFor(() => d.logs.find((l) => typeof l['apiPort'] === 'number'), 'the API listener'))['apiPort'] as number;
    const api = (path: string) => fetch(`http://127.0.0.1:${apiPort}${path}`);
    expect((await api('/v1/signatures/kubernetes/oomkilled')).status).toBe(200);
    expect((await api('/metrics')).status).toBe(404);
    expect((await d.get('/v1/signatures/kubernetes/oomkilled')).status).toBe(404);
    expect((await d.get('/metrics')).status).toBe(200);
    d.kill('SIGTERM');
    expect(await exitWithin(d, 20_000)).toBe(0);
  });

  it('exits 1 when a listener cannot bind', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => taken.close(() => r())));
    const d = await daemon([`127.0.0.1:${await freePort()}`], { LOGSIFT_HTTP_API_PORT: String((taken.address() as AddressInfo).port) });
    expect(await exitWithin(d, 30_000)).toBe(1);
    expect(d.logs.find((l) => l.level === 60)?.msg).toBe('logsift run failed to start');
    expect(d.hasLog(/EADDRINUSE/)).toBe(true);
  });

  it('boots no exact-engine threads on the event loop when enrichment workers serve the stream (they would hold idle V8 heaps), and says how many threads enrich', async () => {
    // logsift names its worker threads (ThreadNames); count each name among the process's OS threads.
    const threads = (pid: number): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const comm = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
        if (comm.startsWith('logsift-')) out[comm] = (out[comm] ?? 0) + 1;
      }
      return out;
    };
    const started = async (workers: string, env: Record<string, string> = {}): Promise<{ threads: Record<string, number>; gauge: number | undefined; young?: unknown }> => {
      const d = await DaemonProcess.start({ brokers: [`127.0.0.1:${await freePort()}`], input: 'in', output: 'out', group: randomName('group'), env: { LOGSIFT_KAFKA_START_TIMEOUT: '10m', LOGSIFT_MATCH_WORKERS: workers, ...env } });
      cleanup.push(() => d.stop());
      // The processor (and with it every thread) is built before the daemon serves HTTP.
      const n = threads(d.pid);
      const gauge = metric((await d.get('/metrics')).body, 'logsift_enrichment_threads');
      // The young generation the workers run with, as the worker reports it (Node's resourceLimits).
      const ready = d.logs.find((l) => l.msg === 'enrichment workers ready') as { young_generation_mb?: unknown } | undefined;
      await d.stop();
      return { threads: n, gauge, ...(ready ? { young: ready.young_generation_mb } : {}) };
    };
    // The embedded KB has records the exact engine runs on its thread. On the event loop: that thread
    // and its stand-by; the event loop is the one thread that enriches.
    expect(await started('0')).toEqual({ threads: { [ThreadNames.exact]: 2 }, gauge: 1 });
    // With one enrichment worker: that worker, and its own exact engine's threads; none for the event loop.
    // Its young generation is match.workerYoungGeneration's 16 MiB (Node's own is larger on any host of 683 MiB and more).
    expect(await started('1')).toEqual({ threads: { [ThreadNames.enrich]: 1, [ThreadNames.exact]: 2 }, gauge: 1, young: 16 });
    // Two workers: two threads enrich (the gauge the dashboard's "Enrichment busy" divides by).
    expect(await started('2', { LOGSIFT_MATCH_WORKER_YOUNG_GENERATION: '24MiB' })).toEqual({ threads: { [ThreadNames.enrich]: 2, [ThreadNames.exact]: 4 }, gauge: 2, young: 24 });
    // Without the setting: Node's own size, larger here.
    expect((await started('1', { LOGSIFT_MATCH_WORKER_YOUNG_GENERATION: 'null' })).young).toBeGreaterThan(24);
  });

  describe('shutdown', () => {
    async function running(env: Record<string, string>): Promise<{ d: DaemonProcess; cluster: MockCluster }> {
      const cluster = await MockCluster.start();
      cleanup.push(() => cluster.stop());
      const topics = { input: randomName('in'), output: randomName('out') };
      await cluster.createTopic(topics.input, 2);
      await cluster.createTopic(topics.output, 2);
      await cluster.createTopic(`${topics.output}.dlq`, 1);
      await produce(cluster.brokers, topics.input, Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `OOMKilled ${i}` })));
      const d = await daemon(cluster.brokers, env, topics);
      await d.waitReady();
      // Every broker round trip now takes 3 s: leaving the group cannot finish quickly.
      await cluster.command('rtt -1 3000');
      return { d, cluster };
    }

    it('exits 4 when stopping takes longer than shutdownGracePeriod', async () => {
      const { d } = await running({ LOGSIFT_SHUTDOWN_GRACE_PERIOD: '300ms' });
      d.kill('SIGTERM');
      expect(await exitWithin(d, 20_000)).toBe(4);
      expect(d.hasLog(/grace period exceeded/)).toBe(true);
    });

    it('exits 4 at once on a second signal', async () => {
      const { d } = await running({ LOGSIFT_SHUTDOWN_GRACE_PERIOD: '10m' });
      d.kill('SIGTERM');
      await waitFor(() => d.hasLog(/shutting down/), 'the first signal to be handled', 10_000);
      d.kill('SIGINT');
      expect(await exitWithin(d, 20_000)).toBe(4);
      expect(d.hasLog(/second signal/)).toBe(true);
    });
  });
});
