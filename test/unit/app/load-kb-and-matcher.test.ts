import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadKbAndMatcher, readBackground, type KbLoadReporter } from '../../../src/app/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { runCli } from '../../helpers/cli.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-load');

async function fixture(): Promise<{ kb: string; bg: string }> {
  const dir = await tempDir();
  const kb = join(dir, 'kb.jsonl');
  const bg = join(dir, 'normal.log');
  const line = (id: string, domain: string, regex: string): string => JSON.stringify({ id, regex, signature: regex, domain, category: 'runtime_error', root_cause: 'r' });
  await writeFile(kb, [line('culture/broad', 'culture', 'publicly'), line('db/refused', 'database', 'connection refused'), line('visa/eta', 'visa', 'ETA')].join('\n'));
  await writeFile(bg, 'service publicly reachable\r\nmetrics publicly exported\n\nheartbeat ok\nheartbeat ok\n');
  return { kb, bg };
}

function recorder(): { reporter: KbLoadReporter; dropped: [string, string[]][] } {
  const dropped: [string, string[]][] = [];
  return { dropped, reporter: { skipped: () => undefined, build: () => undefined, dropped: (reason, records) => dropped.push([reason, records.map((r) => r.id)]) } };
}

describe('loadKbAndMatcher', () => {
  it('drops filtered and broad records, reports them with ids, counts them, and matches without them', async () => {
    const { kb: file, bg } = await fixture();
    const { reporter, dropped } = recorder();
    const { kb, matcher, dropped: counts } = await loadKbAndMatcher(
      [file],
      { allowInvalid: false, matcher: { cacheDir: null }, filter: { exclude: ['domain:visa'] }, lint: { background: [bg], maxBackgroundRate: 0.25 } },
      reporter,
    );
    expect(dropped).toEqual([
      ['filter', ['visa/eta']],
      ['broad', ['culture/broad']],
    ]);
    expect(counts).toEqual({ filter: 1, broad: 1 });
    expect(kb.records.map((r) => r.id)).toEqual(['db/refused']);
    expect(matcher.scan(['publicly', 'connection refused']).map((m) => m.length)).toEqual([0, 1]);

    const metrics = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
    metrics.kbDropped(counts);
    const text = (await metrics.expose(false)).body;
    expect(text).toContain('logsift_knowledge_base_dropped_records{reason="filter"} 1');
    expect(text).toContain('logsift_knowledge_base_dropped_records{reason="broad"} 1');
  });

  it('keeps every record without a rate, or when none is broad; refuses to drop them all', async () => {
    const { kb: file, bg } = await fixture();
    const { reporter, dropped } = recorder();
    const none = await loadKbAndMatcher([file], { allowInvalid: false, matcher: { cacheDir: null }, lint: { background: [bg], maxBackgroundRate: null } }, reporter);
    expect(none.kb.size).toBe(3);
    const loose = await loadKbAndMatcher([file], { allowInvalid: false, matcher: { cacheDir: null }, lint: { background: [bg], maxBackgroundRate: 0.5 } }, reporter);
    expect([loose.kb.size, loose.dropped]).toEqual([3, { filter: 0, broad: 0 }]);
    expect(dropped).toEqual([]);
    const dir = await tempDir();
    const everything = join(dir, 'all.log');
    await writeFile(everything, 'publicly connection refused ETA\n');
    await expect(loadKbAndMatcher([file], { allowInvalid: false, matcher: { cacheDir: null }, lint: { background: [everything], maxBackgroundRate: 0 } }, reporter)).rejects.toMatchObject({ code: 'LOGSIFT_KB_EMPTY' });
  });

  it('readBackground: non-empty lines, CR stripped; a missing file is a KB_READ error naming it', async () => {
    const { bg } = await fixture();
    expect(await readBackground([bg])).toEqual(['service publicly reachable', 'metrics publicly exported', 'heartbeat ok', 'heartbeat ok']);
    await expect(readBackground([join(bg, 'nope')])).rejects.toMatchObject({ code: 'LOGSIFT_KB_READ', file: join(bg, 'nope') });
  });

  it('scan --background --max-background-rate drops broad records and names them on stderr', async () => {
    const { kb, bg } = await fixture();
    const r = await runCli(['scan', '--kb', kb, '--background', bg, '--max-background-rate', '0.25', '--no-cache'], 'publicly\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('logsift: dropped 1 record(s) (kb lint: broad on the background)\nlogsift:   culture/broad: broad: matches 50.00% of the background lines (2 of 4; limit 25.00%)\n');
    expect(r.stdout).toBe('');
    expect((await runCli(['scan', '--kb', kb, '--max-background-rate', '0.25'], 'x\n')).code).toBe(2);
    expect((await runCli(['scan', '--kb', kb, '--background', bg], 'x\n')).code).toBe(2);
  });
});
