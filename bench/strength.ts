/**
 * What match strength costs `logsift scan`, beside its baseline in one run (`npm run bench:strength`,
 * and the last part of `npm run bench:matcher`).
 *
 * Baseline: the same scan with the ranking logsift had before match strength (every match counts as
 * strength 1: ranked by score alone, any match can be the primary). After: the shipped ranking
 * (strength computed for every match, primaries only above match.minStrength). Both over the loghub
 * lines ×10 (320k lines), 2,522-record KB, in this process, alternating runs; CPU time per line.
 * Reported for `--emit all` (one event per line in both: same output volume) and `--emit matched`
 * (what a user runs: the baseline writes 28% of the lines as events, the shipped ranking 0.5%).
 */
import { Readable, Writable } from 'node:stream';

import { runScan, type ScanOptions } from '../src/cli/scan.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher, MessageWords, type SignatureIndex, type StrengthIndex } from '../src/enrich/index.js';
import { loadKnowledgeBase } from '../src/kb/index.js';
import { Matcher } from '../src/matcher/index.js';
import { DEADENDS_RECORDS, TEST_CACHE_DIR } from '../test/helpers/shared.js';
import { fmt, loghubLines } from './common.js';

export async function compareStrength(): Promise<void> {
  const COPIES = Number(process.env['BENCH_COPIES'] ?? 10);
  const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

  const { kb } = await loadKnowledgeBase([DEADENDS_RECORDS]);
  const matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
  const after = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  const baseline = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: 0 });
  // The pre-strength ranking: no strength computed, every match "strength 1".
  const none = new MessageWords('');
  (baseline as unknown as { sigIndex: SignatureIndex }).sigIndex.strength = { messageWords: () => none, strength: () => 1, evidence: () => [] } as unknown as StrengthIndex;

  const text = Buffer.from(`${loghubLines().join('\n')}\n`);
  const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

  async function cpuPerLine(enricher: Enricher, emit: 'all' | 'matched'): Promise<{ perCore: number; events: number }> {
    const opts: ScanOptions = { input: '-', emit, format: 'json', inputFormat: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxLineBytes: 1 << 20, batchSize: 2048 };
    const cpu0 = process.cpuUsage();
    const s = await runScan(opts, enricher, sink(), () => undefined, Readable.from(Array.from({ length: COPIES }, () => text)));
    const cpu = process.cpuUsage(cpu0);
    return { perCore: s.lines / ((cpu.user + cpu.system) / 1e6), events: emit === 'all' ? s.lines : s.matched };
  }

  console.log(`logsift scan over loghub ×${COPIES}, 2,522-record KB; best of ${ROUNDS} alternating rounds, lines/s per core (CPU time)`);
  for (const emit of ['all', 'matched'] as const) {
    await cpuPerLine(baseline, emit); // warm-up both
    await cpuPerLine(after, emit);
    let best = { base: 0, after: 0, baseEvents: 0, afterEvents: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const b = await cpuPerLine(baseline, emit);
      const a = await cpuPerLine(after, emit);
      best = { base: Math.max(best.base, b.perCore), after: Math.max(best.after, a.perCore), baseEvents: b.events, afterEvents: a.events };
    }
    console.log(`  --emit ${emit.padEnd(7)} baseline (no strength) ${fmt(best.base).padStart(9)}  (${fmt(best.baseEvents)} events)`);
    console.log(`  --emit ${emit.padEnd(7)} with strength          ${fmt(best.after).padStart(9)}  (${fmt(best.afterEvents)} events)  ratio ${(best.after / best.base).toFixed(2)}`);
  }
  matcher.close();
}

