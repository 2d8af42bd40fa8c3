/**
 * End to end on the real Kafka protocol: kcat produces the labelled dev lines, `logsift run` (a real
 * process) enriches them through librdkafka's mock cluster, kcat reads every event back.
 */
import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../src/enrich/index.js';
import { loadKnowledgeBase, type KnowledgeBase } from '../../src/kb/index.js';
import { Matcher } from '../../src/matcher/index.js';
import { UnmatchedMiner } from '../../src/suggest/index.js';
import { startCluster, type TestCluster } from '../helpers/broker.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { deliveryReport, readAll } from '../helpers/kafka.js';
import { DEADENDS_RECORDS, TEST_CACHE_DIR, readDevLines, type DevLine } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

let cluster: TestCluster;
let kb: KnowledgeBase;
let enricher: Enricher;
let lines: DevLine[];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  cleanup.push(() => cluster.stop());
  ({ kb } = await loadKnowledgeBase([DEADENDS_RECORDS]));
  enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  lines = readDevLines();
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('logsift run end to end', () => {
  it('gives every dev line its event (kcat in, kcat out), matched and unmatched', async () => {
    const [input, output, unmatched, dlq, group] = ['in', 'events', 'unmatched', 'dlq', 'group'].map(randomName);
    await cluster.createTopic(input!, 4);
    await cluster.createTopic(output!, 4);
    await cluster.createTopic(unmatched!, 2);
    await cluster.createTopic(dlq!, 1);
    // kcat: key = line number, \x01 between key and value (dev lines have no control characters).
    const payload = lines.map((l, i) => `${i}\x01${l.line}`).join('\n');
    execFileSync('kcat', ['-P', '-b', cluster.bootstrap, '-t', input!, '-K', '\\x01', '-p', '-1'], { input: payload });

    const daemon = await DaemonProcess.start({ brokers: cluster.brokers, input: input!, output: output!, group: group!, kb: [DEADENDS_RECORDS], unmatched: unmatched!, dlq: dlq! });
    cleanup.push(() => daemon.stop());
    await daemon.waitReady();

    const expected = lines.map((l) => enricher.enrichBatch([l.line], [{}])[0]!.event);
    const all = await waitFor(async () => {
      const events = [...(await readAll(cluster.brokers, output!)), ...(await readAll(cluster.brokers, unmatched!))];
      return new Set(events.map((e) => e.key)).size >= lines.length ? events : null;
    }, 'an event for every line', 120_000, 500);

    const byLine = new Map<number, { signature_id: string | null; matches: string[]; source: { key: string; topic: string }; kb_version: string; log: unknown }>();
    for (const e of all) byLine.set(Number(e.key), JSON.parse(e.value!));
    let wrong = 0;
    lines.forEach((_line, i) => {
      const got = byLine.get(i)!;
      const want = expected[i]!;
      if (got.signature_id !== want.signature_id || got.matches.join() !== want.matches.join()) wrong++;
      expect(got.source.key).toBe(String(i));
      expect(got.source.topic).toBe(input);
    });
    expect(wrong).toBe(0);
    // Matched events go to the output topic, unmatched to their own, each keyed by its input key.
    const matchedOut = await readAll(cluster.brokers, output!);
    expect(matchedOut.every((e) => JSON.parse(e.value!).signature_id !== null)).toBe(true);
    expect(matchedOut.length).toBe(expected.filter((e) => e.signature_id !== null).length);
    expect(byLine.get(0)!.kb_version).toBe(kb.version);
    const report = deliveryReport(new Set(all.map((e) => `${e.headers['logsift.source.partition']}:${e.headers['logsift.source.offset']}`)), all);
    console.log(`[pipeline] ${lines.length} lines: lost 0, duplicates ${report.duplicates}`);
    expect(report.duplicates).toBe(0);

    // Metrics count the same stream.
    const metrics = (await daemon.get('/metrics')).body;
    const matchedCount = expected.filter((e) => e.signature_id !== null).length;
    expect(metrics).toContain(`logsift_messages_total{outcome="matched"} ${matchedCount}`);
    expect(metrics).toContain(`logsift_messages_total{outcome="unmatched"} ${lines.length - matchedCount}`);
    // Unmatched error lines are mined into templates (counted; top ones at /v1/unmatched).
    const miner = new UnmatchedMiner({ fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    miner.observe(lines.filter((_l, i) => expected[i]!.signature_id === null).map((l) => l.line));
    expect(miner.errorLines).toBeGreaterThan(0);
    expect(metrics).toContain(`logsift_unmatched_error_lines_total ${miner.errorLines}`);
    const unmatchedView = JSON.parse((await daemon.get('/v1/unmatched?limit=3')).body) as { error_lines: number; templates: number; top: { count: number }[] };
    expect(unmatchedView.error_lines).toBe(miner.errorLines);
    expect(unmatchedView.top).toHaveLength(Math.min(3, unmatchedView.templates));
    expect(metrics).toContain('logsift_unmatched_templates ');

    daemon.kill('SIGTERM');
    expect(await daemon.wait()).toBe(0);
  });
});
