/**
 * npm run bench:matcher — the matcher with the 2,522-record deadends.dev KB, each figure beside its
 * baseline in the same run:
 * - cold compile: the previous single database (UTF8|UCP patterns inside) vs ASCII first (time to
 *   the first matchable message) and the Unicode parts (in the background, in parallel);
 * - start on a cached KB: the full KB load (zod, canonical hashing) vs the snapshot, in process, and
 *   a whole `logsift scan` process (start to exit on a 3-line input);
 * - the batched native scan vs one call per line vs a plain JavaScript RegExp loop;
 * - a whole `logsift scan --emit matched` process over loghub ×10, on 1 and 2 threads.
 * Needs `npm run build` (the processes run bin/logsift.js). BENCH_ONLY=start: the cached start alone
 * (its cache compiled first, untimed), each figure still beside its baseline; BENCH_START_RUNS: the
 * whole processes timed (median), default 5; BENCH_SCAN_RUNS: the `scan` processes over loghub ×10 per
 * thread count (median), default 5.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadKnowledgeBase } from '../src/kb/index.js';
import { loadKnowledgeBaseCached } from '../src/kb/snapshot.js';
import { Matcher, loadNative, planPatterns } from '../src/matcher/index.js';
import { DEADENDS_RECORDS, REPO_ROOT } from '../test/helpers/shared.js';
import { devLines, fmt, loghubLines, measure, median } from './common.js';
import { compareStrength } from './strength.js';

const BATCH = 1024;
const COPIES = Number(process.env['BENCH_COPIES'] ?? 10);
const START_ONLY = process.env['BENCH_ONLY'] === 'start';
const START_RUNS = Number(process.env['BENCH_START_RUNS'] ?? 5);
const SCAN_RUNS = Number(process.env['BENCH_SCAN_RUNS'] ?? 5);
const BIN = join(REPO_ROOT, 'bin', 'logsift.js');
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function runProcess(args: string[]): { ms: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`logsift ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stderr: r.stderr };
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', 'build:ts'], { cwd: REPO_ROOT, stdio: 'ignore' });
  const native = loadNative();
  const { kb } = await loadKnowledgeBase([DEADENDS_RECORDS]);
  const dir = await mkdtemp(join(tmpdir(), 'logsift-bench-'));
  try {
    const cacheDir = join(dir, 'cache');
    let t0 = performance.now();
    if (START_ONLY) (await Matcher.create(kb, { cacheDir, unicode: 'wait' })).close();
    else {
      // 1. Cold compile. Baseline: the previous policy, one database with every pattern's own flags.
      const plan = await planPatterns(native, kb.records, { ignoreCase: true });
      const hs = plan.filter((p) => p.cls === 'native' || p.cls === 'prefilter');
      await native.compile(hs.map((p) => ({ expression: p.expression!, flags: p.flags!, id: p.index })));
      const beforeMs = performance.now() - t0;
      t0 = performance.now();
      const cold = await Matcher.create(kb, { cacheDir });
      const asciiMs = performance.now() - t0;
      await cold.unicodeReady;
      const unicodeMs = performance.now() - t0;
      console.log(`knowledge base: ${kb.size} records; classes ${JSON.stringify(cold.info.patterns)}; ${hs.filter((p) => p.asciiFlags !== undefined).length} patterns need the Unicode database`);
      console.log(`cold compile, baseline (one database, UTF8|UCP patterns inside): ${s(beforeMs)}`);
      console.log(`cold compile, ASCII first: first message matchable after ${s(asciiMs)} (${(beforeMs / asciiMs).toFixed(1)}× sooner); Unicode parts ready after ${s(unicodeMs)} (in the background)`);
    }

    // 2. Cached start. In process: full load vs snapshot (both then load the databases from the cache).
    await loadKnowledgeBaseCached([DEADENDS_RECORDS], {}, cacheDir); // writes the snapshot
    const reps = 5;
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await Matcher.create((await loadKnowledgeBase([DEADENDS_RECORDS])).kb, { cacheDir });
    const fullMs = (performance.now() - t0) / reps;
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await Matcher.create((await loadKnowledgeBaseCached([DEADENDS_RECORDS], {}, cacheDir)).kb, { cacheDir });
    const snapMs = (performance.now() - t0) / reps;
    const small = join(dir, 'small.log');
    await writeFile(small, `${loghubLines().slice(0, 3).join('\n')}\n`);
    const common = ['scan', '--kb', DEADENDS_RECORDS, '--cache-dir', cacheDir];
    runProcess([...common, '--input', small]); // warm the page cache
    const procMs = median(Array.from({ length: START_RUNS }, () => runProcess([...common, '--input', small]).ms));
    const bare = median(
      Array.from({ length: START_RUNS }, () => {
        const t = performance.now();
        spawnSync(process.execPath, ['-e', '0']);
        return performance.now() - t;
      }),
    );
    console.log(`\ncached start, in process: full KB load + cached databases ${fullMs.toFixed(0)} ms (baseline); KB snapshot + cached databases ${snapMs.toFixed(0)} ms`);
    console.log(`cached start, whole process (start to exit, 3 lines scanned): ${procMs.toFixed(0)} ms median of ${START_RUNS} (a bare \`node -e 0\`: ${bare.toFixed(0)} ms)`);
    if (START_ONLY) return;

    // 3. In-process scans and the RegExp baseline.
    const warm = await Matcher.create(kb, { cacheDir, unicode: 'wait' });
    let loopRate = 0;
    for (const [name, lines] of [['loghub-2k (16 systems)', loghubLines()], ['dev-lines', devLines()]] as const) {
      const batches: string[][] = [];
      for (let i = 0; i < lines.length; i += BATCH) batches.push(lines.slice(i, i + BATCH));
      const batched = measure(lines.length, () => {
        for (const b of batches) warm.scan(b);
      });
      const single = measure(lines.length, () => {
        for (const l of lines) warm.scan([l]);
      });
      // Baseline: every record's exact RegExp on every line (answers the same). Sampled: it is slow.
      const regexes = warm.plan.filter((p) => p.js !== null).map((p) => new RegExp(p.js!, p.jsFlags));
      const sample = lines.filter((_, i) => i % 16 === 0);
      const loop = measure(sample.length, () => {
        for (const l of sample) for (const re of regexes) re.test(l);
      }, 3);
      if (loopRate === 0) loopRate = loop.perCore;
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


    // 4. Whole `logsift scan --emit matched` processes over loghub ×COPIES, 1 and 2 threads.
    const big = join(dir, 'big.log');
    const text = `${loghubLines().join('\n')}\n`;
    await writeFile(big, text.repeat(COPIES));
    const n = loghubLines().length * COPIES;
    console.log(`\nlogsift scan --emit matched, loghub ×${COPIES} (${fmt(n)} lines), whole process (start, KB and databases from the cache, scan, rank, encode, write):`);
    // BENCH_SCAN_RUNS rounds, 1 and 2 threads alternating in each: the median of each (a single whole
    // process moves by ±25% between runs here).
    const runs: Record<number, number[]> = { 1: [], 2: [] };
    for (let round = 0; round < SCAN_RUNS; round++) {
      for (const threads of [1, 2]) runs[threads]!.push(runProcess([...common, '--input', big, '--emit', 'matched', '--threads', String(threads)]).ms);
    }
    const rates: Record<number, number> = {};
    for (const threads of [1, 2]) {
      const ms = median(runs[threads]!);
      rates[threads] = n / (ms / 1000);
      const spread = runs[threads]!.map((x) => fmt(n / (x / 1000))).join(', ');
      console.log(`  --threads ${threads}: ${fmt(rates[threads]!)} lines/s (${s(ms)}, median of ${SCAN_RUNS}: ${spread})${threads === 2 ? `, ${(rates[2]! / rates[1]!).toFixed(2)}× one thread` : ''}`);
    }
    console.log(`  vs the RegExp loop (loghub, per core): ${fmt(rates[1]! / loopRate)}× on 1 thread, ${fmt(rates[2]! / loopRate)}× on 2`);
    console.log(`RSS of this process ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
if (!START_ONLY) {
  // Match strength's cost on `scan`, beside the pre-strength ranking in the same process (issue: ≥ 90%).
  console.log('');
  await compareStrength();
}
