import { Writable } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import type { KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { LogsiftMetrics, ShadowScanner, type ShadowScannerOptions } from '../../../src/telemetry/index.js';
import { kbOf, record } from '../../helpers/kb.js';
import { waitFor } from '../../helpers/wait.js';

async function enricher(kb: KnowledgeBase): Promise<Enricher> {
  return new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: 0 });
}

async function setup(extra: Partial<ShadowScannerOptions> = {}) {
  const live = await enricher(kbOf(record('net/refused', 'connection refused')));
  const shadowKb = await enricher(kbOf(record('net/refused', 'connection refused'), record('net/timeout', 'timed out')));
  const metrics = new LogsiftMetrics({ signatureLabel: false, processMetrics: false });
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) }));
  const scanner = new ShadowScanner({ shadow: () => shadowKb, registry: metrics.registry, logger, sample: 1, ...extra });
  const inputs = (lines: string[]) => live.enrichBatch(lines, []).map((e, i) => ({ text: lines[i]!, live: e, where: `in/0@${i}` }));
  const value = async (name: string, labels: Record<string, string> = {}) => (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  return { scanner, inputs, logs, value, shadowKb, logger };
}

describe('ShadowScanner', () => {
  it('counts differences as bounded metrics and logs an example at most once per interval', async () => {
    let now = 0;
    const { scanner, inputs, logs, value } = await setup({ now: () => now, logIntervalMs: 1000 });
    scanner.compare(inputs(['connection refused', 'timed out', 'fine']));
    expect(await value('logsift_shadow_messages_total', { diff: 'same' })).toBe(2);
    expect(await value('logsift_shadow_messages_total', { diff: 'primary_changed' })).toBe(1);
    expect(await value('logsift_shadow_messages_total', { diff: 'matches_changed' })).toBe(0);
    expect(await value('logsift_shadow_primary_changes_total')).toBe(1);
    expect(await value('logsift_shadow_matches_gained_total')).toBe(1);
    expect(await value('logsift_shadow_matches_lost_total')).toBe(0);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ msg: 'shadow KB would change results', example: { where: 'in/0@1', from: null, to: 'net/timeout' }, shadow: { messages: 3, primaryChanged: 1 } });
    now = 999;
    scanner.compare(inputs(['timed out']));
    expect(logs).toHaveLength(1);
    now = 1000;
    scanner.compare(inputs(['fine', 'timed out']));
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatchObject({ example: { where: 'in/0@1' }, shadow: { messages: 3, primaryChanged: 2, same: 1 } });
    expect(await value('logsift_shadow_primary_changes_total')).toBe(3);
  });

  it('reports the shadow KB version', async () => {
    const { scanner, value, shadowKb } = await setup();
    expect(await value('logsift_shadow_knowledge_base_info', { kb_version: shadowKb.kb.version })).toBe(1);
    scanner.setKnowledgeBase('kb-0000000000000000');
    expect(await value('logsift_shadow_knowledge_base_info', { kb_version: shadowKb.kb.version })).toBeUndefined();
    expect(await value('logsift_shadow_knowledge_base_info', { kb_version: 'kb-0000000000000000' })).toBe(1);
  });

  it('scans a sampled subset after the current callbacks', async () => {
    const draws = [0.1, 0.9, 0.2, 0.8];
    const { scanner, inputs, value } = await setup({ sample: 0.5, random: () => draws.shift()! });
    scanner.schedule(inputs(['timed out', 'timed out', 'fine', 'timed out']));
    expect(await value('logsift_shadow_messages_total', { diff: 'primary_changed' })).toBe(0); // not yet: after delivery
    await waitFor(async () => (await value('logsift_shadow_messages_total', { diff: 'same' })) === 1, 'the sampled scan', 5_000, 5);
    expect(await value('logsift_shadow_messages_total', { diff: 'primary_changed' })).toBe(1);
  });

  it('logs a failing shadow scan, rate-limited, and never throws into the live path', async () => {
    let now = 0;
    let fail = false;
    const { inputs, shadowKb, logs, logger } = await setup();
    const scanner = new ShadowScanner({
      shadow: () => {
        if (fail) throw new Error('shadow gone');
        return shadowKb;
      },
      registry: new LogsiftMetrics({ signatureLabel: false, processMetrics: false }).registry,
      logger,
      sample: 1,
      now: () => now,
      logIntervalMs: 1000,
    });
    fail = true;
    scanner.schedule(inputs(['timed out']));
    await waitFor(() => logs.length === 1, 'the failure log', 5_000, 5);
    expect(logs[0]).toMatchObject({ msg: 'shadow KB scan failed; the live output is not affected', code: 'LOGSIFT_SHADOW', err: { message: 'shadow gone' } });
    now = 1000;
    scanner.schedule(inputs(['timed out']));
    await waitFor(() => logs.length === 2, 'the next failure log', 5_000, 5);
    now = 1999;
    scanner.schedule(inputs(['timed out']));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(logs).toHaveLength(2);
  });
});
