/**
 * KB reloads (SIGHUP) while chunks are being delivered: a chunk's matches belong to the KB it was
 * scanned with, whatever KB is installed when its report is counted. Two KBs alternate; both hold the
 * same four signatures, at different record indexes (extra records sort before them). The
 * per-signature metric counts must equal the output events exactly. Then a reload of an invalid KB
 * keeps the loaded one and says so in the metrics.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { MockCluster } from '../helpers/broker.js';
import { DaemonProcess, unexpectedErrors } from '../helpers/daemon.js';
import { deliveryReport, inputCoordinates, produce, readAll } from '../helpers/kafka.js';
import { record } from '../helpers/kb.js';
import { useTempDirs } from '../helpers/temp.js';
import { randomName, waitFor } from '../helpers/wait.js';

const tempDir = useTempDirs('logsift-reload');
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  expect(unexpectedErrors()).toEqual([]);
});

const SIGNATURES: [string, string][] = [
  ['sig/disk-full', 'disk full'],
  ['sig/oom', 'out of memory'],
  ['sig/refused', 'connection refused'],
  ['sig/timeout', 'timed out'],
];
const kbA = JSON.stringify([...SIGNATURES.map(([id, re]) => record(id, re, { signature: re })), ...['aa/x1', 'aa/x2', 'aa/x3'].map((id) => record(id, `never-${id}-qqq`))]);
const kbB = JSON.stringify([...SIGNATURES.map(([id, re]) => record(id, re, { signature: re })), record('ab/y1', 'never-y1-qqq')]);

/** logsift_signature_matches_total summed per signature_id. */
function signatureCounts(exposition: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of exposition.matchAll(/^logsift_signature_matches_total\{signature_id="([^"]+)"[^}]*\} (\d+)/gm)) counts[m[1]!] = (counts[m[1]!] ?? 0) + Number(m[2]);
  return counts;
}

const metric = (exposition: string, line: RegExp): number => Number(line.exec(exposition)?.[1] ?? NaN);

/** KB A in a file, a mock cluster, and input, output and DLQ topics of `partitions` partitions. */
async function setup(partitions: number): Promise<{ kbFile: string; cluster: MockCluster; topics: { input: string; output: string } }> {
  const kbFile = join(await tempDir(), 'kb.json');
  await writeFile(kbFile, kbA);
  const cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  const topics = { input: randomName('in'), output: randomName('out') };
  await cluster.createTopic(topics.input, partitions);
  await cluster.createTopic(topics.output, partitions);
  await cluster.createTopic(`${topics.output}.dlq`, 1);
  return { kbFile, cluster, topics };
}

describe('KB reload during delivery', () => {
  it('counts every match under the signature of the KB that matched it, across many SIGHUP reloads', async () => {
    const { kbFile, cluster, topics } = await setup(4);
    const messages = 4000;
    const waves = 40;
    const perWave = messages / waves;
    const input = Array.from({ length: messages }, (_, i) => ({ key: `k${i}`, value: `${SIGNATURES[i % 4]![1]} #${i}`, partition: i % 4 }));
    // Slow round trips and small chunks: delivering a wave takes several round trips.
    await cluster.command('rtt -1 60');
    const d = await DaemonProcess.start({ brokers: cluster.brokers, input: topics.input, output: topics.output, group: randomName('group'), kb: [kbFile], env: { LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '40', LOGSIFT_KB_WATCH: 'false' } });
    cleanup.push(() => d.stop());
    await d.waitReady();
    const loads = () => d.logs.filter((l) => l.msg === 'knowledge base loaded').length;

    // The input arrives in waves, and each wave is followed at once by a reload, so reloads land in
    // the middle of delivery however fast this machine delivers (a timed race did not: a quiet
    // machine delivered everything after four reloads).
    let reloadsDuringDelivery = 0;
    for (let i = 1; i <= waves; i++) {
      await produce(cluster.brokers, topics.input, input.slice((i - 1) * perWave, i * perWave));
      const before = loads();
      await writeFile(kbFile, i % 2 === 1 ? kbB : kbA);
      d.kill('SIGHUP');
      await waitFor(() => loads() > before, `reload ${i}`, 60_000, 10);
      // Delivered so far, by the daemon's own count (every message matches one signature).
      const delivered = Object.values(signatureCounts((await d.get('/metrics')).body)).reduce((a, b) => a + b, 0);
      if (delivered < i * perWave) reloadsDuringDelivery++;
    }
    const expected = await inputCoordinates(cluster.brokers, topics.input);
    expect(expected.size).toBe(messages);
    console.log(`[reload] ${reloadsDuringDelivery} of ${waves} SIGHUP reloads landed during delivery`);
    expect(reloadsDuringDelivery).toBeGreaterThanOrEqual(5);

    const events = await waitFor(async () => {
      const all = await readAll(cluster.brokers, topics.output);
      return deliveryReport(expected, all).lost.length === 0 ? all : null;
    }, 'an event for every input message', 120_000, 500);
    const report = deliveryReport(expected, events);
    expect(report.duplicates).toBe(0);
    const fromEvents: Record<string, number> = {};
    for (const e of events) {
      const id = (JSON.parse(e.value!) as { signature_id: string }).signature_id;
      fromEvents[id] = (fromEvents[id] ?? 0) + 1;
    }
    expect(fromEvents).toEqual(Object.fromEntries(SIGNATURES.map(([id]) => [id, messages / 4])));
    const exposition = (await d.get('/metrics')).body;
    expect(signatureCounts(exposition)).toEqual(fromEvents);
    expect(metric(exposition, /^logsift_knowledge_base_reloads_total\{result="success"\} (\d+)/m)).toBe(loads());
  });

  it('keeps the loaded KB when a SIGHUP reload fails, and says so in the metrics', async () => {
    const { kbFile, cluster, topics } = await setup(1);
    const d = await DaemonProcess.start({ brokers: cluster.brokers, input: topics.input, output: topics.output, group: randomName('group'), kb: [kbFile] });
    cleanup.push(() => d.stop());
    await d.waitReady();
    const versionBefore = /logsift_knowledge_base_info\{kb_version="([^"]+)"\} 1/.exec((await d.get('/metrics')).body)?.[1];
    expect(versionBefore).toMatch(/^kb-/);

    await writeFile(kbFile, '[{"id": "broken", "regex": ');
    d.kill('SIGHUP');
    await waitFor(() => d.hasLog(/knowledge-base reload failed; keeping the loaded one/), 'the failed reload', 60_000);
    const exposition = (await d.get('/metrics')).body;
    expect(metric(exposition, /^logsift_knowledge_base_last_reload_success (\d+)/m)).toBe(0);
    expect(metric(exposition, /^logsift_knowledge_base_reloads_total\{result="failure"\} (\d+)/m)).toBe(1);
    expect(metric(exposition, /^logsift_knowledge_base_reloads_total\{result="success"\} (\d+)/m)).toBe(1);
    expect(exposition).toContain(`logsift_knowledge_base_info{kb_version="${versionBefore}"} 1`);
    expect((await d.get('/readyz')).status).toBe(200);

    // The old KB goes on matching.
    await produce(cluster.brokers, topics.input, [{ key: 'k', value: 'disk full on /var' }]);
    const [event] = await waitFor(async () => {
      const out = await readAll(cluster.brokers, topics.output);
      return out.length > 0 ? out : null;
    }, 'the event');
    expect(JSON.parse(event!.value!)).toMatchObject({ signature_id: 'sig/disk-full', kb_version: versionBefore });

    // A good KB again: the next reload succeeds and the gauge says so.
    await writeFile(kbFile, kbB);
    d.kill('SIGHUP');
    await waitFor(async () => metric((await d.get('/metrics')).body, /^logsift_knowledge_base_last_reload_success (\d+)/m) === 1, 'a successful reload', 60_000);
  });
});
