/**
 * Faults on the real protocol, each on its own mock cluster with random topic and group names.
 * Every message produces an event (matched → output, unmatched → unmatched topic), so "nothing lost"
 * means: every input offset has an event. Each test prints its duplicates.
 */
import { afterEach, describe, expect, it, type TestContext } from 'vitest';

import { NEEDS_MOCK_FAULTS, externalBrokers, startCluster, type TestCluster } from '../helpers/broker.js';
import { DaemonProcess, messagesCounted, unexpectedErrors, type DaemonOptions } from '../helpers/daemon.js';
import { deliveryReport, inputCoordinates, produce, readAll, type DeliveryReport, type InputRecord } from '../helpers/kafka.js';
import { loghubLines } from '../../bench/common.js';
import { readDevLines } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  expect(unexpectedErrors()).toEqual([]);
});

/** Realistic input: loghub lines with an error line (from the dev set) every third message. */
function corpus(n: number, partitions: number): InputRecord[] {
  const background = loghubLines();
  const errors = readDevLines().filter((l) => l.source.length > 0).map((l) => l.line);
  return Array.from({ length: n }, (_, i) => ({
    key: `k${i}`,
    value: i % 3 === 0 ? errors[i % errors.length]! : background[i % background.length]!,
    partition: i % partitions,
  }));
}

interface Scenario {
  cluster: TestCluster;
  topics: { input: string; output: string; unmatched: string; dlq: string };
  group: string;
  expected: Set<string>;
  start(extra?: Partial<DaemonOptions>): Promise<DaemonProcess>;
  events(): Promise<Awaited<ReturnType<typeof readAll>>>;
  waitAll(timeoutMs?: number): Promise<DeliveryReport>;
}

async function scenario(n: number, partitions = 4, records?: InputRecord[]): Promise<Scenario> {
  const cluster = await startCluster();
  cleanup.push(() => cluster.stop());
  const topics = { input: randomName('in'), output: randomName('out'), unmatched: randomName('un'), dlq: randomName('dlq') };
  await cluster.createTopic(topics.input, partitions);
  await cluster.createTopic(topics.output, partitions);
  await cluster.createTopic(topics.unmatched, partitions);
  await cluster.createTopic(topics.dlq, 1);
  await produce(cluster.brokers, topics.input, records ?? corpus(n, partitions));
  const expected = await inputCoordinates(cluster.brokers, topics.input);
  const group = randomName('group');
  const events = async () => [...(await readAll(cluster.brokers, topics.output)), ...(await readAll(cluster.brokers, topics.unmatched))];
  return {
    cluster,
    topics,
    group,
    expected,
    events,
    async start(extra = {}) {
      const d = await DaemonProcess.start({
        brokers: cluster.brokers,
        input: topics.input,
        output: topics.output,
        unmatched: topics.unmatched,
        dlq: topics.dlq,
        group,
        ...extra,
        // Small fetches and chunks, two chunks in flight: many round trips, so faults land mid-stream
        // (with read-ahead the default 8 chunks in flight deliver these streams in about a second).
        env: { LOGSIFT_DELIVERY_MAX_BYTES_PER_PARTITION: '64KiB', LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '50', LOGSIFT_DELIVERY_MAX_IN_FLIGHT_BATCHES: '2', ...extra.env },
      });
      cleanup.push(() => d.stop());
      return d;
    },
    async waitAll(timeoutMs = 120_000) {
      return waitFor(async () => {
        const r = deliveryReport(expected, await events());
        return r.lost.length === 0 ? r : null;
      }, 'an event for every input offset', timeoutMs, 500);
    },
  };
}

/** Fault tests drive the mock's fault commands; on an external Kafka they skip and say why. */
function needsFaultInjection(ctx: TestContext): void {
  if (externalBrokers()) ctx.skip(NEEDS_MOCK_FAULTS);
}

/**
 * Waits until the daemon has delivered `atLeast` messages, by its own count (logsift_messages_total,
 * counted after a chunk is delivered and committed): read on its HTTP port in milliseconds, where
 * reading the output topics with kcat takes seconds at 50 ms round trips, long enough for a stream
 * to finish before the fault it was meant to meet.
 */
async function progress(d: DaemonProcess, atLeast: number): Promise<void> {
  await waitFor(
    async () => messagesCounted((await d.get('/metrics')).body, ['matched', 'unmatched', 'dead_lettered']) >= atLeast,
    `${atLeast} messages delivered`,
    60_000,
    50,
  );
}

export function dumpLogs(d: DaemonProcess): void {
  for (const l of d.logs.filter((x) => x.level >= 40)) console.log(`  [${d.pid}] ${l.level} ${l.msg} ${JSON.stringify(l).slice(0, 400)}`);
}

function report(name: string, r: DeliveryReport): void {
  console.log(`[faults] ${name}: expected ${r.expected}, delivered ${r.delivered}, lost ${r.lost.length}, duplicates ${r.duplicates}`);
}

describe('faults on the real protocol', () => {
  it('survives the broker going down for several seconds mid-stream', async (ctx) => {
    needsFaultInjection(ctx);
    const s = await scenario(12_000);
    await s.cluster.command('rtt -1 50');
    const d = await s.start();
    await d.waitReady();
    await progress(d, 1000);
    const downAt = Date.now();
    await s.cluster.command('down -1');
    // Readiness notices, and the broker stays down at least 3 s.
    await waitFor(async () => (await d.get('/readyz')).status === 503 && Date.now() - downAt > 3000, 'readiness to drop', 60_000);
    const during = deliveryReport(s.expected, await waitFor(async () => { await s.cluster.command('up -1'); return s.events(); }, 'the broker back'));
    await waitFor(async () => (await d.get('/readyz')).status === 200, 'readiness to come back', 60_000).catch((err: unknown) => {
      dumpLogs(d);
      throw err;
    });
    const r = await s.waitAll();
    report('broker down', r);
    expect(during.delivered).toBeLessThan(s.expected.size); // the outage was mid-stream
    expect(r.lost).toEqual([]);
  });

  it('survives injected produce, fetch and commit errors', async (ctx) => {
    needsFaultInjection(ctx);
    const s = await scenario(8_000);
    // Slow round trips: the stream must still be flowing when the errors are injected, or only the
    // idle fetches would meet them (a quiet machine delivers 8,000 messages in about a second).
    await s.cluster.command('rtt -1 50');
    const d = await s.start();
    await d.waitReady();
    await progress(d, 500);
    // Produce: NOT_LEADER_OR_FOLLOWER (6), REQUEST_TIMED_OUT (7); Fetch: 6, 7; OffsetCommit: COORDINATOR_NOT_AVAILABLE (15).
    await s.cluster.command('errors 0 6 7 6 7 6');
    await s.cluster.command('errors 1 6 7 6');
    await s.cluster.command('errors 8 15 15');
    const r = await s.waitAll();
    report('injected errors', r);
    expect(r.lost).toEqual([]);
    // The injected errors reached the client, which retried them (kafkajs logs each error response).
    const responseErrors = new Set(d.logs.filter((l) => /^Response /.test(l.msg)).map((l) => `${l.msg.replace(/\(.*$/, '')}: ${String(l['error'])}`));
    expect([...responseErrors]).toEqual(
      expect.arrayContaining([
        'Response Produce: This server is not the leader for that topic-partition',
        'Response Produce: The request timed out',
        'Response OffsetCommit: The group coordinator is not available',
      ]),
    );
  });

  it('restarts its consumer after a crash kafkajs does not restart (a non-retriable group error, as after an eviction)', async () => {
    const s = await scenario(6_000);
    await s.cluster.command('rtt -1 20');
    const d = await s.start();
    await d.waitReady();
    await progress(d, 500);
    // Heartbeat (API key 12) answered GROUP_AUTHORIZATION_FAILED (30): not retriable, so kafkajs
    // emits CRASH with restart: false and leaves the consumer stopped.
    await s.cluster.command('errors 12 30');
    await waitFor(() => d.logs.some((l) => l.msg.startsWith('consumer crashed') && l['restart'] === false), 'a crash kafkajs does not restart', 60_000).catch((err: unknown) => {
      dumpLogs(d);
      throw err;
    });
    await waitFor(() => d.hasLog(/consumer restarted after a crash/), 'logsift to restart the consumer', 60_000);
    const r = await s.waitAll();
    report('consumer restart', r);
    expect(r.lost).toEqual([]);
    await d.waitReady();
  });

  it('loses nothing when the daemon is SIGKILLed mid-stream and restarted', async (ctx) => {
    needsFaultInjection(ctx);
    const s = await scenario(10_000);
    await s.cluster.command('rtt -1 50');
    const first = await s.start();
    await first.waitReady();
    await progress(first, 1000);
    first.kill('SIGKILL');
    expect(await first.wait()).toBe(-1);
    const mid = deliveryReport(s.expected, await s.events());
    const second = await s.start();
    await second.waitReady();
    const r = await s.waitAll();
    report('SIGKILL + restart', r);
    expect(mid.delivered).toBeLessThan(s.expected.size);
    expect(r.lost).toEqual([]);
  });

  it('two instances share 8 partitions; one is SIGKILLed and the other takes over', async (ctx) => {
    needsFaultInjection(ctx);
    const s = await scenario(12_000, 8);
    await s.cluster.command('rtt -1 50');
    const a = await s.start();
    const b = await s.start();
    await a.waitReady();
    await b.waitReady();
    // Both own partitions after the rebalance.
    await waitFor(() => {
      const last = (d: DaemonProcess) => [...d.logs].reverse().find((l) => l.msg === 'joined consumer group')?.['assignment'] as Record<string, number[]> | undefined;
      const pa = Object.values(last(a) ?? {}).flat().length;
      const pb = Object.values(last(b) ?? {}).flat().length;
      return pa > 0 && pb > 0 && pa + pb === 8;
    }, 'both instances to own partitions', 90_000);
    await progress(a, 750);
    a.kill('SIGKILL');
    const r = await s.waitAll(180_000);
    report('two instances, one killed', r);
    expect(r.lost).toEqual([]);
  });

  it('sends poison messages to the DLQ with their reason and goes on; dlq replay sends them back', async () => {
    const good = corpus(300, 2);
    const poison: InputRecord[] = [
      { key: 'bad-utf8', value: Buffer.from([0x6f, 0x6f, 0x70, 0x73, 0x20, 0xc3, 0x28]), partition: 0 },
      { key: 'too-large', value: `OOMKilled ${'x'.repeat(5000)}`, partition: 1 },
      { key: 'tombstone', value: null, partition: 0 },
    ];
    const records = [...good.slice(0, 150), ...poison, ...good.slice(150)];
    const s = await scenario(0, 2, records);
    const d = await s.start({ env: { LOGSIFT_INPUT_MAX_MESSAGE_BYTES: '4KiB' } });
    const dlqRecords = await waitFor(async () => {
      const r = await readAll(s.cluster.brokers, s.topics.dlq);
      return r.length >= 3 ? r : null;
    }, 'three DLQ records');
    const byKey = new Map(dlqRecords.map((r) => [r.key, r]));
    expect(byKey.get('bad-utf8')!.headers['logsift.dlq.reason']).toBe('LOGSIFT_INVALID_UTF8');
    expect(byKey.get('too-large')!.headers['logsift.dlq.reason']).toBe('LOGSIFT_MESSAGE_TOO_LARGE');
    expect(byKey.get('too-large')!.value).toBe(poison[1]!.value); // untouched
    expect(byKey.get('tombstone')!.headers['logsift.dlq.reason']).toBe('LOGSIFT_EMPTY_VALUE');
    for (const r of dlqRecords) {
      expect(r.headers['logsift.source.topic']).toBe(s.topics.input);
      expect(r.headers['logsift.dlq.time']).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    // The stream went on: every good message has its event.
    const goodCoords = new Set((await readAll(s.cluster.brokers, s.topics.input)).filter((r) => r.key!.startsWith('k')).map((r) => `${r.partition}:${r.offset}`));
    const r = await waitFor(async () => {
      const rep = deliveryReport(goodCoords, await s.events());
      return rep.lost.length === 0 ? rep : null;
    }, 'events for the good messages');
    report('poison', r);
    const metrics = (await d.get('/metrics')).body;
    expect(metrics).toContain('logsift_dead_letter_messages_total{reason="LOGSIFT_MESSAGE_TOO_LARGE"} 1');
    expect(metrics).toContain('logsift_messages_total{outcome="dead_lettered"} 3');

    // After the fix (a larger limit), replay only the too-large one back to the input.
    d.kill('SIGTERM');
    expect(await d.wait()).toBe(0);
    const { runCli } = await import('../helpers/cli.js');
    const replay = await runCli(['dlq', 'replay', '--brokers', s.cluster.bootstrap, '--dlq', s.topics.dlq, '--to', s.topics.input, '--reason', 'LOGSIFT_MESSAGE_TOO_LARGE']);
    expect(replay.stderr).toContain('replayed 1 message(s)');
    expect(replay.code).toBe(0);
    const fixed = await s.start({ env: { LOGSIFT_INPUT_MAX_MESSAGE_BYTES: '64KiB' } });
    await waitFor(async () => (await readAll(s.cluster.brokers, s.topics.output)).some((e) => e.key === 'too-large' && JSON.parse(e.value!).signature_id === 'kubernetes/oomkilled'), 'the replayed message\'s event');
    await fixed.waitReady();
  });

  it('SIGTERM finishes in-flight work, commits and exits 0; a restart resumes without duplicates', async (ctx) => {
    needsFaultInjection(ctx);
    const s = await scenario(10_000);
    await s.cluster.command('rtt -1 50');
    const first = await s.start();
    await first.waitReady();
    await progress(first, 1000);
    const t0 = Date.now();
    first.kill('SIGTERM');
    const code = await first.wait();
    dumpLogs(first);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(first.hasLog(/stopped cleanly/)).toBe(true);
    const mid = deliveryReport(s.expected, await s.events());
    const second = await s.start();
    await second.waitReady();
    const r = await s.waitAll();
    report('SIGTERM + restart', r);
    expect(mid.delivered).toBeLessThan(s.expected.size);
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(0);
  });
});
