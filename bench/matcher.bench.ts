/**
 * npm run bench:matcher — the matcher with the 2,522-record deadends.dev KB, side by side with its
 * baseline (a plain JavaScript RegExp loop over the same records) in one process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Readable } from 'node:stream';

import { runScan } from '../src/cli/scan.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../src/enrich/index.js';
import { loadKnowledgeBase } from '../src/kb/index.js';
import { Matcher, loadNative } from '../src/matcher/index.js';
import { DEADENDS_RECORDS } from '../test/helpers/shared.js';
import { devLines, fmt, loghubLines, measure } from './common.js';
import { compareStrength } from './strength.js';

const BATCH = 1024;

async function main(): Promise<void> {
  const { kb } = await loadKnowledgeBase([DEADENDS_RECORDS]);
  const cacheDir = await mkdtemp(join(tmpdir(), 'logsift-bench-'));
  try {
    const cold = await Matcher.create(kb, { cacheDir });
    const warm = await Matcher.create(kb, { cacheDir });
    const native = loadNative();
    const { readFileSync, readdirSync } = await import('node:fs');
    const dbBytes = readFileSync(join(cacheDir, readdirSync(cacheDir)[0]!));
    const t0 = process.hrtime.bigint();
    const reps = 20;
    for (let i = 0; i < reps; i++) await Matcher.create(kb, { cacheDir });
    const cachedLoadMs = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
    void native;
    console.log(`knowledge base: ${kb.size} records; classes ${JSON.stringify(cold.info.patterns)}`);
    console.log(`compile (cold): ${cold.info.buildSeconds.toFixed(2)} s; cached load (Matcher.create, cache hit): ${cachedLoadMs.toFixed(1)} ms; cache file ${(dbBytes.length / 1048576).toFixed(1)} MiB; database ${(warm.info.databaseBytes / 1048576).toFixed(1)} MiB`);

    for (const [name, lines] of [['loghub-2k (16 systems)', loghubLines()], ['dev-lines', devLines()]] as const) {
      const batches: string[][] = [];
      for (let i = 0; i < lines.length; i += BATCH) batches.push(lines.slice(i, i + BATCH));
      const batched = measure(lines.length, () => {
        for (const b of batches) warm.scan(b);
      });
      const single = measure(lines.length, () => {
        for (const l of lines) warm.scan([l]);
      });
      // Baseline: what a JavaScript implementation does without Hyperscan — every record's regex on
      // every line (the exact translated RegExps, so it answers the same). Sampled: it is slow.
      const regexes = warm.plan.filter((p) => p.js !== null).map((p) => new RegExp(p.js!, p.jsFlags));
      const sample = lines.filter((_, i) => i % 16 === 0);
      const loop = measure(sample.length, () => {
        for (const l of sample) for (const re of regexes) re.test(l);
      }, 3);
      console.log(`\n${name}: ${fmt(lines.length)} lines`);
      console.log(`  batched native scan (${BATCH}/call): ${fmt(batched.perCore)} lines/s per core`);
      console.log(`  one native call per line:      ${fmt(single.perCore)} lines/s per core (batched is ${(batched.perCore / single.perCore).toFixed(2)}×)`);
      console.log(`  baseline RegExp loop:          ${fmt(loop.perCore)} lines/s per core (batched is ${fmt(batched.perCore / loop.perCore)}×)`);
    }

    // The exact engine's cost (issue 11): multi-line messages make newline-sensitive records need
    // confirmation. Baseline in the same run: the same scan on the single-line form of the same
    // messages (no confirmation), and the confirm step alone, inline RegExps (the previous engine,
    // unbounded) against the budgeted worker (ExactEngine.test).
    {
      const dev = devLines();
      const multi = Array.from({ length: Math.floor(dev.length / 2) }, (_, i) => `${dev[2 * i]}\n${dev[2 * i + 1]}`);
      const flat = multi.map((m) => m.replace('\n', ' '));
      const chunks = (xs: string[]) => Array.from({ length: Math.ceil(xs.length / BATCH) }, (_, i) => xs.slice(i * BATCH, (i + 1) * BATCH));
      const multiBatches = chunks(multi);
      const flatBatches = chunks(flat);
      const scanFlat = measure(flat.length, () => {
        for (const b of flatBatches) warm.scan(b);
      });
      const scanMulti = measure(multi.length, () => {
        for (const b of multiBatches) warm.scan(b);
      });
      const flatMatches = warm.scan(flat);
      const tasks = multi
        .map((text, i) => ({ text, patterns: flatMatches[i]!.filter((p) => warm.plan[p]!.features?.newlineSensitive === true && warm.plan[p]!.js !== null) }))
        .filter((t) => t.patterns.length > 0);
      const pairs = tasks.reduce((n, t) => n + t.patterns.length, 0);
      const inlineRes = tasks.map((t) => t.patterns.map((p) => new RegExp(warm.plan[p]!.js!, warm.plan[p]!.jsFlags)));
      const inline = measure(tasks.length, () => {
        tasks.forEach((t, k) => {
          for (const re of inlineRes[k]!) {
            re.lastIndex = 0;
            re.test(t.text);
          }
        });
      });
      const worker = measure(tasks.length, () => void warm.exact.test(tasks));
      const rate = (r: { items: number; wallSeconds: number; perCore: number }) => `${fmt(r.perCore)} /s per core of CPU (all threads), ${fmt(r.items / r.wallSeconds)} /s wall`;
      console.log(`\nexact engine, dev lines joined in pairs (${fmt(multi.length)} two-line messages):`);
      console.log(`  baseline: batched scan of the single-line form:  ${rate(scanFlat)} messages`);
      console.log(`  batched scan of the two-line messages:          ${rate(scanMulti)} messages`);
      console.log(`  confirm step alone (${fmt(tasks.length)} messages, ${fmt(pairs)} regex tests):`);
      console.log(`    baseline: inline RegExps (unbounded):        ${rate(inline)} messages`);
      console.log(`    budgeted worker (ExactEngine.test):          ${rate(worker)} messages`);
      warm.close();
    }

    // logsift scan --emit matched over the loghub lines (in process, output discarded).
    const text = `${loghubLines().join('\n')}\n`;
    const enricher = new Enricher(kb, warm, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
    const opts = { input: '-', emit: 'matched' as const, format: 'json' as const, inputFormat: 'auto' as const, fields: DEFAULT_MESSAGE_FIELDS, maxLineBytes: 1 << 20, batchSize: 2048 };
    const copies = 5;
    const scanInput = () => Readable.from(Array.from({ length: copies }, () => Buffer.from(text)));
    await runScan(opts, enricher, sink(), () => undefined, scanInput()); // warm-up
    const cpu0 = process.cpuUsage();
    const summary = await runScan(opts, enricher, sink(), () => undefined, scanInput());
    const cpu = process.cpuUsage(cpu0);
    console.log(`\nlogsift scan --emit matched, loghub ×${copies}: ${fmt(summary.lines / ((cpu.user + cpu.system) / 1e6))} lines/s per core (${fmt(summary.lines / summary.seconds)} lines/s wall), ${summary.matched} events`);
    console.log(`RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

await main();
// Match strength's cost on `scan`, beside the pre-strength ranking in the same process (issue: ≥ 90%).
console.log('');
await compareStrength();
