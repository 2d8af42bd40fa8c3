/**
 * KB changes without restarts, on the real protocol (mock cluster): the daemon watches its KB paths,
 * swaps versions between chunks, refuses a broken KB, and reports a shadow KB's differences.
 * Small KBs (compiled in milliseconds) and a few thousand synthetic lines keep this lean.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../src/enrich/index.js';
import { Daemon, InlineProcessor, createKafka } from '../../src/kafka/index.js';
import { loadKnowledgeBase } from '../../src/kb/index.js';
import { Matcher } from '../../src/matcher/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { startCluster, type TestCluster } from '../helpers/broker.js';
import { DaemonProcess, messagesCounted, metric } from '../helpers/daemon.js';
import { deliveryReport, inputCoordinates, produce, readAll, type InputRecord, type ReadRecord } from '../helpers/kafka.js';
import { useTempDirs } from '../helpers/temp.js';
import { randomName, waitFor } from '../helpers/wait.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});
const tempDir = useTempDirs('logsift-reload');

const rec = (id: string, regex: string) => ({ id, regex, signature: regex, domain: 'test', category: 'test_error', root_cause: `root cause of ${id}`, confidence: 0.9, workarounds: [{ action: `fix ${id}` }], dead_ends: [] });
const KB_A = [rec('net/refused', 'connection refused'), rec('db/too-many', 'too many clients')];
const KB_B = [rec('net/refused-any', 'refused'), rec('db/too-many', 'too many clients'), rec('db/clients', 'clients'), rec('net/timeout', 'timed out')];
const LINES = ['dial tcp 10.0.0.7:5432: connection refused', 'FATAL: sorry, too many clients already', 'read: timed out after 30s', 'GET /healthz 200 1ms', 'refused to start: missing config'];
const PARTITIONS = 3;

const lines = (n: number, from = 0): InputRecord[] => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: LINES[(from + i) % LINES.length]!, partition: (from + i) % PARTITIONS }));

/** Writes the KB as editors and `kubectl cp` do: a temporary file renamed over the old one. */
async function writeKb(file: string, content: unknown): Promise<void> {
  await writeFile(`${file}.tmp`, typeof content === 'string' ? content : JSON.stringify(content));
  await rename(`${file}.tmp`, file);
}

const versionOf = async (file: string): Promise<string> => (await loadKnowledgeBase([file])).kb.version;

/** Input messages the daemon has processed so far, from its own metrics (kcat is slow under rtt). */
const processed = (body: string): number => messagesCounted(body, ['matched', 'unmatched']);

async function setup(kbContent: unknown) {
  const cluster: TestCluster = await startCluster();
  cleanup.push(() => cluster.stop());
  const topics = { input: randomName('in'), output: randomName('out'), unmatched: randomName('un') };
  for (const t of Object.values(topics)) await cluster.createTopic(t, PARTITIONS);
  const dir = await tempDir();
  const kbFile = join(dir, 'kb.json');
  await writeKb(kbFile, kbContent);
  const events = async (): Promise<ReadRecord[]> => [...(await readAll(cluster.brokers, topics.output)), ...(await readAll(cluster.brokers, topics.unmatched))];
  const start = async (env: Record<string, string> = {}) => {
    const d = await DaemonProcess.start({
      brokers: cluster.brokers,
      input: topics.input,
      output: topics.output,
      unmatched: topics.unmatched,
      group: randomName('group'),
      kb: [dir],
      env: { LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '50', LOGSIFT_DELIVERY_MAX_BYTES_PER_PARTITION: '4KiB', LOGSIFT_KB_WATCH_DEBOUNCE: '200ms', LOGSIFT_MATCH_MIN_STRENGTH: '0', ...env },
    });
    cleanup.push(() => d.stop());
    return d;
  };
  const delivered = async (expected: ReadonlySet<string>, atLeast = expected.size) =>
    waitFor(async () => {
      const evs = await events();
      return deliveryReport(expected, evs).delivered >= atLeast ? evs : null;
    }, `${atLeast} events`, 90_000, 300);
  return { cluster, topics, dir, kbFile, events, start, delivered, produce: (records: InputRecord[]) => produce(cluster.brokers, topics.input, records), expected: () => inputCoordinates(cluster.brokers, topics.input) };
}

/** Per partition, the KB version of each input offset in offset order (one entry per offset). */
function versionsByPartition(events: readonly ReadRecord[]): Map<number, string[]> {
  const byPartition = new Map<number, Map<number, Set<string>>>();
  for (const e of events) {
    const p = Number(e.headers['logsift.source.partition']);
    const offsets = byPartition.get(p) ?? new Map<number, Set<string>>();
    byPartition.set(p, offsets);
    const o = Number(e.headers['logsift.source.offset']);
    offsets.set(o, (offsets.get(o) ?? new Set()).add(e.headers['logsift.kb.version']!));
  }
  return new Map(
    [...byPartition].map(([p, offsets]) => [
      p,
      [...offsets.entries()].sort((a, b) => a[0] - b[0]).map(([o, v]) => {
        if (v.size !== 1) throw new Error(`partition ${p} offset ${o} has events from ${[...v].join(' and ')}`);
        return [...v][0]!;
      }),
    ]),
  );
}

const switches = (versions: readonly string[]): number => versions.filter((v, i) => i > 0 && v !== versions[i - 1]).length;

describe('KB reload without restarts', () => {
  it('switches to a KB rewritten mid-stream, losing nothing, once per partition', async () => {
    const s = await setup(KB_A);
    await s.cluster.command('rtt -1 100'); // slow, small fetches: the rewrite lands mid-stream
    await s.produce(lines(1500));
    const d = await s.start({ LOGSIFT_DELIVERY_MAX_BYTES_PER_PARTITION: '1KiB' });
    const vA = await versionOf(s.kbFile);
    await waitFor(async () => processed((await d.get('/metrics')).body) >= 200, '200 messages processed', 60_000, 20);
    await writeKb(s.kbFile, KB_B);
    const vB = await versionOf(s.kbFile);
    await waitFor(() => d.logs.some((l) => l.msg === 'knowledge base loaded' && l['kb_version'] === vB), 'the reload', 60_000);
    await s.produce(lines(600, 1500));
    const expected = await s.expected();
    const events = await s.delivered(expected);
    const r = deliveryReport(expected, events);
    console.log(`[reload] rewrite: expected ${r.expected}, delivered ${r.delivered}, lost ${r.lost.length}, duplicates ${r.duplicates}, old-KB events ${events.filter((e) => e.headers['logsift.kb.version'] === vA).length}`);
    expect(r.lost).toEqual([]);
    const byPartition = versionsByPartition(events);
    expect([...byPartition.keys()].sort()).toEqual([0, 1, 2]);
    const all = [...byPartition.values()].flat();
    expect(all).toContain(vA);
    // Part of the backlog that was in the topic before the rewrite came out with the new KB.
    expect(events.filter((e) => e.headers['logsift.kb.version'] === vA).length).toBeLessThan(1500);
    expect(new Set(all)).toEqual(new Set([vA, vB]));
    for (const [p, versions] of byPartition) {
      expect(versions[versions.length - 1], `partition ${p} ends on the new KB`).toBe(vB);
      expect(switches(versions), `partition ${p}: ${versions[0]} → ${vB} once, never back`).toBeLessThanOrEqual(1);
    }
    const m = (await d.get('/metrics')).body;
    expect(metric(m, 'logsift_knowledge_base_reloads_total', 'result="success"')).toBeGreaterThanOrEqual(2);
    expect(metric(m, 'logsift_knowledge_base_info', `kb_version="${vB}"`)).toBe(1);
  });

  it('refuses an invalid KB without interrupting the stream, logging it once', async () => {
    const s = await setup(KB_A);
    await s.cluster.command('rtt -1 100');
    await s.produce(lines(900));
    const d = await s.start({ LOGSIFT_DELIVERY_MAX_BYTES_PER_PARTITION: '1KiB' });
    const vA = await versionOf(s.kbFile);
    await waitFor(async () => processed((await d.get('/metrics')).body) >= 150, '150 messages processed', 60_000, 20);
    await writeKb(s.kbFile, '[{"id": "broken", "regex": ');
    const atFailure = await waitFor(async () => {
      const body = (await d.get('/metrics')).body;
      return metric(body, 'logsift_knowledge_base_reloads_total', 'result="failure"') === 1 ? body : null;
    }, 'the refused reload', 60_000, 20);
    expect(processed(atFailure)).toBeLessThan(900); // refused mid-stream
    await s.produce(lines(300, 900));
    const expected = await s.expected();
    const events = await s.delivered(expected);
    expect(deliveryReport(expected, events).lost).toEqual([]);
    expect(new Set(events.map((e) => e.headers['logsift.kb.version']))).toEqual(new Set([vA]));
    const m = (await d.get('/metrics')).body;
    expect(metric(m, 'logsift_knowledge_base_last_reload_success')).toBe(0);
    expect(metric(m, 'logsift_knowledge_base_reloads_total', 'result="failure"')).toBe(1);
    expect(metric(m, 'logsift_knowledge_base_info', `kb_version="${vA}"`)).toBe(1);
    expect(d.logs.filter((l) => l.msg.startsWith('knowledge-base reload failed'))).toHaveLength(1);
  });

  it('counts the shadow KB differences as a direct comparison of the two KBs does', async () => {
    const s = await setup(KB_A);
    const shadowFile = join(await tempDir(), 'candidate.json');
    await writeKb(shadowFile, KB_B);
    const n = 600;
    await s.produce(lines(n));
    const d = await s.start({ LOGSIFT_KB_SHADOW: shadowFile });
    const expected = await s.expected();
    const events = await s.delivered(expected);
    const vA = await versionOf(s.kbFile);
    // The output is the live KB's alone.
    expect(new Set(events.map((e) => e.headers['logsift.kb.version']))).toEqual(new Set([vA]));
    expect(events.some((e) => (JSON.parse(e.value!) as { matches: string[] }).matches.some((id) => KB_B.some((r) => r.id === id) && !KB_A.some((r) => r.id === id)))).toBe(false);
    const total = (m: string) => ['same', 'primary_changed', 'matches_changed'].reduce((sum, diff) => sum + (metric(m, 'logsift_shadow_messages_total', `diff="${diff}"`) ?? 0), 0);
    const m = await waitFor(async () => {
      const body = (await d.get('/metrics')).body;
      return total(body) >= n ? body : null;
    }, 'the shadow scans', 30_000);

    // Direct comparison, in-process, of the two KBs on the same input lines (values as consumed).
    const inputs = (await readAll(s.cluster.brokers, s.topics.input)).map((r) => r.value!);
    const enricher = async (file: string) => {
      const { kb } = await loadKnowledgeBase([file]);
      return new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: 0 });
    };
    const live = (await enricher(s.kbFile)).enrichBatch(inputs, []);
    const shadow = (await enricher(shadowFile)).enrichBatch(inputs, []);
    const want = { same: 0, primary_changed: 0, matches_changed: 0, gained: 0, lost: 0 };
    live.forEach((l, i) => {
      const sh = shadow[i]!;
      const a = new Set(l.event.matches);
      const b = new Set(sh.event.matches);
      want.gained += [...b].filter((x) => !a.has(x)).length;
      want.lost += [...a].filter((x) => !b.has(x)).length;
      if (l.event.signature_id !== sh.event.signature_id) want.primary_changed++;
      else if (a.size !== b.size || [...a].some((x) => !b.has(x))) want.matches_changed++;
      else want.same++;
    });
    console.log(`[reload] shadow: ${JSON.stringify(want)}`);
    expect(want.primary_changed).toBeGreaterThan(0);
    expect(want.matches_changed).toBeGreaterThan(0);
    expect(want.same).toBeGreaterThan(0);
    expect(total(m)).toBe(n);
    for (const diff of ['same', 'primary_changed', 'matches_changed'] as const) expect(metric(m, 'logsift_shadow_messages_total', `diff="${diff}"`), diff).toBe(want[diff]);
    expect(metric(m, 'logsift_shadow_primary_changes_total')).toBe(want.primary_changed);
    expect(metric(m, 'logsift_shadow_matches_gained_total')).toBe(want.gained);
    expect(metric(m, 'logsift_shadow_matches_lost_total')).toBe(want.lost);
    expect(d.logs.filter((l) => l.msg === 'shadow KB would change results').length).toBeGreaterThanOrEqual(1);

    // The candidate is watched too: a broken one is refused on its own, a fixed one is taken.
    await writeKb(shadowFile, 'not json');
    await waitFor(() => d.logs.some((l) => l.msg.startsWith('shadow knowledge-base reload failed')), 'the refused candidate', 30_000);
    const body = (await d.get('/metrics')).body;
    expect(metric(body, 'logsift_shadow_knowledge_base_info', `kb_version="${shadow[0]!.event.kb_version}"`)).toBe(1);
    expect(metric(body, 'logsift_knowledge_base_reloads_total', 'result="failure"') ?? 0).toBe(0); // the live KB reloaded fine
    await writeKb(shadowFile, KB_A);
    await waitFor(async () => metric((await d.get('/metrics')).body, 'logsift_shadow_knowledge_base_info', `kb_version="${vA}"`) === 1, 'the new candidate', 30_000);
  });

  it('takes the KB once per chunk: all events of a chunk carry its version', async () => {
    // In-process daemon whose KB getter alternates between two KBs on every call: a daemon that read
    // it per message would mix versions within a chunk. Chunks are identified by their batch span.
    const s = await setup(KB_A);
    const n = 300;
    await s.produce(lines(n));
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    cleanup.push(async () => propagation.disable());
    const shadowFile = join(await tempDir(), 'b.json');
    await writeKb(shadowFile, KB_B);
    const enrichers = await Promise.all(
      [s.kbFile, shadowFile].map(async (f) => {
        const { kb } = await loadKnowledgeBase([f]);
        return new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: 0 });
      }),
    );
    let calls = 0;
    const config = loadConfig({
      env: { LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '20' },
      overrides: [
        { path: ['kafka', 'brokers'], value: s.cluster.brokers, flag: '--brokers' },
        { path: ['input', 'topics'], value: [s.topics.input], flag: '--input' },
        { path: ['input', 'groupId'], value: randomName('group'), flag: '--group' },
        { path: ['output', 'topic'], value: s.topics.output, flag: '--output' },
        { path: ['output', 'unmatchedTopic'], value: s.topics.unmatched, flag: '--unmatched' },
        { path: ['output', 'dlqTopic'], value: s.topics.unmatched, flag: '--dlq' },
      ],
    });
    const logger = createLogger('warn');
    const daemon = new Daemon({ kafka: createKafka(config.kafka, logger), config, logger, processor: () => new InlineProcessor(enrichers[calls++ % 2]!), tracer: provider.getTracer('logsift') });
    cleanup.push(() => daemon.stop());
    await daemon.start();
    const events = await s.delivered(await s.expected());
    expect(events).toHaveLength(n);
    const spans = new Map(exporter.getFinishedSpans().map((sp) => [sp.spanContext().spanId, sp]));
    const chunks = new Map<string, Set<string>>();
    for (const e of events) {
      const event = spans.get(e.headers['traceparent']!.split('-')[2]!)!;
      const batch = spans.get(event.parentSpanContext!.spanId)!;
      expect(batch.name).toBe('logsift.batch');
      expect(e.headers['logsift.kb.version']).toBe(batch.attributes['logsift.kb_version']);
      const id = batch.spanContext().spanId;
      chunks.set(id, (chunks.get(id) ?? new Set()).add(e.headers['logsift.kb.version']!));
    }
    expect(chunks.size).toBeGreaterThanOrEqual(n / 20);
    expect([...chunks.values()].every((v) => v.size === 1)).toBe(true);
    expect(new Set([...chunks.values()].flatMap((v) => [...v]))).toEqual(new Set(enrichers.map((e) => e.kb.version)));
  });
});
