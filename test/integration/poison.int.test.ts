/**
 * Poison messages of each kind mixed into normal traffic, on the mock cluster (issue 11): every
 * normal message has its event, every poison message is in the DLQ with its reason (the deep JSON
 * one is made safe and enriched, its `log` truncated with the marker); the consumer never restarts,
 * the group never rebalances, /readyz stays green; SIGTERM mid-stream exits within the grace period.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, expect, it } from 'vitest';

import { loghubLines } from '../../bench/common.js';
import { MockCluster } from '../helpers/broker.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { deliveryReport, inputCoordinates, produce, readAll, type InputRecord } from '../helpers/kafka.js';
import { STARTER_KB } from '../helpers/shared.js';
import { useTempDirs } from '../helpers/temp.js';
import { randomName, waitFor } from '../helpers/wait.js';
import { record } from '../helpers/kb.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});
const tempDir = useTempDirs('logsift-poison-int');

const REDOS = `${'a'.repeat(32)}cab`;
const DEEP = `{"message":["OOMKilled container app",${'['.repeat(200_000)}${']'.repeat(200_000)}]}`;

it('isolates poison of every kind; no restart, no rebalance, always ready; SIGTERM mid-stream exits in time', async () => {
  const dir = await tempDir();
  const redosKb = join(dir, 'redos.jsonl');
  await writeFile(redosKb, JSON.stringify(record('redos/lookahead', '(?=(a+)+b)a')));
  const cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  const t = { input: randomName('in'), output: randomName('out'), unmatched: randomName('un'), dlq: randomName('dlq') };
  for (const [name, partitions] of [[t.input, 2], [t.output, 2], [t.unmatched, 2], [t.dlq, 1]] as const) await cluster.createTopic(name, partitions);

  const normal = loghubLines().slice(0, 300).map((value, i): InputRecord => ({ key: `k${i}`, value, partition: i % 2 }));
  const poison: (InputRecord & { reason: string | null })[] = [
    { key: 'redos-0', value: REDOS, partition: 0, reason: 'LOGSIFT_CONFIRM_TIMEOUT' },
    { key: 'redos-1', value: REDOS, partition: 1, reason: 'LOGSIFT_CONFIRM_TIMEOUT' },
    { key: 'bad-utf8', value: Buffer.from([0x6f, 0xc3, 0x28]), partition: 0, reason: 'LOGSIFT_INVALID_UTF8' },
    { key: 'too-large', value: 'x'.repeat(600 * 1024), partition: 1, reason: 'LOGSIFT_MESSAGE_TOO_LARGE' },
    { key: 'tombstone', value: null, partition: 0, reason: 'LOGSIFT_EMPTY_VALUE' },
    { key: 'deep', value: DEEP, partition: 1, reason: null },
  ];
  const mixed: InputRecord[] = [];
  normal.forEach((n, i) => {
    mixed.push(n);
    if (i % 50 === 25) mixed.push(poison[(i - 25) / 50]!);
  });
  await produce(cluster.brokers, t.input, mixed, 100);
  const normalCoords = await inputCoordinates(cluster.brokers, t.input, (r) => r.key?.startsWith('k') === true || r.key === 'deep');

  const d = await DaemonProcess.start({
    brokers: cluster.brokers,
    ...t,
    group: randomName('group'),
    kb: [STARTER_KB, redosKb],
    env: { LOGSIFT_INPUT_MAX_MESSAGE_BYTES: '512KiB', LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '50', LOGSIFT_SHUTDOWN_GRACE_PERIOD: '15s' },
  });
  cleanup.push(() => d.stop());
  await d.waitReady();
  // Watch readiness all along (a blocked event loop would also stall these requests).
  const readyz: number[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) readyz.push((await d.get('/readyz')).status);
  })();

  const events = async () => [...(await readAll(cluster.brokers, t.output)), ...(await readAll(cluster.brokers, t.unmatched))];
  const report = await waitFor(async () => {
    const r = deliveryReport(normalCoords, await events());
    return r.lost.length === 0 ? r : null;
  }, 'an event for every normal message', 120_000, 500);
  expect(report.lost).toEqual([]);
  const deep = (await readAll(cluster.brokers, t.output)).find((e) => e.key === 'deep')!;
  expect(JSON.parse(deep.value!)).toMatchObject({ signature_id: 'kubernetes/oomkilled' });
  expect(deep.value).toContain('[logsift: truncated]');

  const dlq = await waitFor(async () => {
    const r = await readAll(cluster.brokers, t.dlq);
    return r.length >= 5 ? r : null;
  }, 'five DLQ records');
  expect(new Map(dlq.map((r) => [r.key, r.headers['logsift.dlq.reason']]))).toEqual(new Map(poison.filter((p) => p.reason).map((p) => [p.key, p.reason])));

  // SIGTERM while more backtracking messages are being processed.
  await produce(cluster.brokers, t.input, Array.from({ length: 40 }, (_, i) => ({ key: `late-${i}`, value: i % 2 === 0 ? REDOS : normal[i]!.value, partition: i % 2 })), 10);
  await waitFor(async () => (await readAll(cluster.brokers, t.dlq)).length > 5, 'the late stream to be under way', 60_000, 200);
  watching = false;
  await watcher;
  d.kill('SIGTERM');
  expect(await d.wait()).toBe(0); // 1 when the grace period runs out

  expect(readyz.length).toBeGreaterThan(0);
  expect(readyz.every((s) => s === 200)).toBe(true);
  expect(d.logs.filter((l) => l.msg === 'joined consumer group')).toHaveLength(1);
  expect(d.hasLog(/consumer crashed|consumer restarted/)).toBe(false);
  expect(d.logs.some((l) => l['code'] === 'LOGSIFT_REDOS' && JSON.stringify(l['records']).includes('redos/lookahead'))).toBe(true);
}, 240_000);
