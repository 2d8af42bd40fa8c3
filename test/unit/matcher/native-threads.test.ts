/**
 * The addon in several environments at once (issue 14 §4): per-environment constructors, cleanup on
 * worker termination, and external-memory accounting so that replaced databases are collected.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { loadNative, nativePath, type NativeBinding, type NativePattern } from '../../../src/matcher/index.js';
import { REPO_ROOT } from '../../helpers/shared.js';

const WORKER = join(REPO_ROOT, 'test', 'helpers', 'native-worker.mjs');
const PATTERNS: NativePattern[] = [
  { expression: 'connection (refused|reset)', flags: 1 | 2 | 8, id: 0 },
  { expression: '\\bout of memory\\b', flags: 1 | 2 | 8, id: 1 },
  { expression: 'timed? ?out after \\d+ ?ms', flags: 1 | 2 | 8, id: 2 },
];
const LINES = ['ok\n', 'Connection refused by peer\n', 'java.lang.OutOfMemoryError: out of memory\n', 'request timed out after 300ms\n', 'nothing\n'];
const EXPECTED = [1, 0, 2, 1, 3, 2];

function scanPairs(scanner: InstanceType<NativeBinding['Scanner']>, lines: readonly string[] = LINES): number[] {
  const data = Buffer.from(lines.join(''), 'utf8');
  const offsets = new Uint32Array(lines.length + 1);
  let pos = 0;
  lines.forEach((l, i) => {
    offsets[i] = pos;
    pos += Buffer.byteLength(l);
  });
  offsets[lines.length] = pos;
  return Array.from(scanner.scan(data, offsets));
}

function start(mode: 'once' | 'forever'): { worker: Worker; first: Promise<{ type: string; pairs: number[] }>; exit: Promise<number> } {
  const worker = new Worker(WORKER, { workerData: { addon: nativePath(), patterns: PATTERNS, lines: LINES, mode } });
  const first = new Promise<{ type: string; pairs: number[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, first, exit };
}

describe('native addon in worker threads', () => {
  it('compiles and scans in two workers and the main thread at once', async () => {
    const native = loadNative();
    const a = start('once');
    const b = start('once');
    const db = await native.compile(PATTERNS);
    const scanner = new native.Scanner(db);
    let mine: number[] = [];
    for (let i = 0; i < 200; i++) mine = scanPairs(scanner);
    const [ra, rb] = await Promise.all([a.first, b.first]);
    expect(mine).toEqual(EXPECTED);
    expect(ra).toEqual({ type: 'done', pairs: EXPECTED });
    expect(rb).toEqual({ type: 'done', pairs: EXPECTED });
    expect(await a.exit).toBe(0);
    expect(await b.exit).toBe(0);
    // The main thread's classes still work after the workers' environments are gone.
    expect(scanPairs(new native.Scanner(await native.compile(PATTERNS)))).toEqual(EXPECTED);
  });

  it('collects more matches than its initial room holds (the callback never allocates)', async () => {
    const native = loadNative();
    const scanner = new native.Scanner(await native.compile(PATTERNS));
    const copies = 1000; // 6,000 pairs: over the 4,096-entry room, so the scan grows it and rescans
    const lines = Array.from({ length: copies }, () => LINES).flat();
    const pairs = scanPairs(scanner, lines);
    const expected: number[] = [];
    for (let c = 0; c < copies; c++) for (let k = 0; k < EXPECTED.length; k += 2) expected.push(EXPECTED[k]! + c * LINES.length, EXPECTED[k + 1]!);
    expect(pairs).toEqual(expected);
  });

  it('survives a worker terminated mid-scan, and a new worker loads the addon again', async () => {
    const native = loadNative();
    const busy = start('forever');
    expect((await busy.first).pairs).toEqual(EXPECTED);
    await busy.worker.terminate();
    expect(await busy.exit).toBe(1);
    const again = start('once');
    expect((await again.first).pairs).toEqual(EXPECTED);
    expect(await again.exit).toBe(0);
    expect(scanPairs(new native.Scanner(await native.compile(PATTERNS)))).toEqual(EXPECTED);
  });

  it('reports databases and scratch as external memory, so replaced databases are collected', async () => {
    const native = loadNative();
    // Without external-memory accounting V8 sees only tiny wrapper objects and rarely collects them:
    // 1,500 replacements of a ~270 KiB database (and its scratch) would hold about 400 MiB.
    const big: NativePattern[] = Array.from({ length: 120 }, (_, i) => ({ expression: `e${i}x\\w{2,40}y[a-z]{1,30}z${i}`, flags: 1 | 2 | 8, id: i }));
    const bytes = (await native.compile(big)).serialize();
    const size = native.deserialize(bytes).size();
    expect(size).toBeGreaterThan(200_000);
    const REPLACEMENTS = 1500;
    const rss0 = process.memoryUsage().rss;
    let live = native.deserialize(bytes);
    for (let i = 0; i < REPLACEMENTS; i++) {
      live = native.deserialize(bytes);
      new native.Scanner(live).scan(Buffer.from('e1xabcyqz1'), Uint32Array.of(0, 10));
      // Finalizers run from the event loop, as they do between real reloads.
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    const grown = process.memoryUsage().rss - rss0;
    expect(live.size()).toBe(size);
    // Generous: V8 collects once external memory grew by tens of MiB; the bound is 40% of the total.
    expect(grown).toBeLessThan((REPLACEMENTS * size * 2) / 5);
  });
});
