/**
 * `logsift scan --threads N`: worker threads give byte-for-byte the output of one thread, in input
 * order, with invalid lines interleaved where they were, and a worker that cannot start fails the scan.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { Enricher, type MessageInput } from '../../../src/enrich/index.js';
import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { kbSource } from '../../../src/kb/snapshot.js';
import { Matcher } from '../../../src/matcher/index.js';
import { POOL_AFTER_LINES, runScan } from '../../../src/cli/scan.js';
import { startScanPool } from '../../../src/cli/scan-pool.js';
import { runCli } from '../../helpers/cli.js';
import { REPO_ROOT, STARTER_KB, TEST_CACHE_DIR } from '../../helpers/shared.js';
import { PassThrough, Readable } from 'node:stream';

const demo = readFileSync(join(REPO_ROOT, 'data', 'samples', 'demo.log'));

/** Copies of the demo log, with an invalid UTF-8 line, an over-long line and non-ASCII lines among them. */
function input(copies = 10): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < copies; i++) {
    parts.push(demo);
    if (i === 3) parts.push(Buffer.from([0x66, 0xff, 0x0a]));
    if (i === 6) parts.push(Buffer.from(`${'x'.repeat(2000)}\n`));
    if (i === 8) parts.push(Buffer.from('FATAL: sorry, too many clients already — connexion refusée\n'));
  }
  return Buffer.concat(parts);
}

describe('logsift scan --threads', () => {
  it('writes the same bytes as one thread, in input order, errors interleaved', async () => {
    const args = ['scan', '--kb', STARTER_KB, '--cache-dir', TEST_CACHE_DIR, '--emit', 'all', '--batch-size', '37', '--max-line-bytes', '1000'];
    // Both runs load the databases from the cache (a cold first run would say it compiles, the
    // second that it loads): compile them first, the Unicode one included, whatever ran before.
    const { kb } = await loadKnowledgeBase([STARTER_KB]);
    (await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR, unicode: 'wait' })).close();
    // More lines than POOL_AFTER_LINES: the workers start and render most batches.
    const copies = Math.ceil((2 * POOL_AFTER_LINES) / 23);
    const one = await runCli([...args, '--threads', '1'], input(copies));
    const two = await runCli([...args, '--threads', '2'], input(copies));
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const lines = one.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBe(copies * 23 + 3);
    expect(lines.filter((l) => l.includes('logsift.error/v1'))).toHaveLength(2);
    expect(two.stdout).toBe(one.stdout);
    const timeless = (t: string) => t.replace(/ in [\d.]+ m?s( \(\d+ lines\/s\))?/g, '');
    expect(timeless(two.stderr)).toBe(timeless(one.stderr));
    expect(one.stderr).toMatch(/:\d+: invalid UTF-8 at byte 1; line skipped/);
  });

  it('renders batches in the workers once they are ready: same bytes, same summary', async () => {
    const { kb } = await loadKnowledgeBase([STARTER_KB]);
    const matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
    const enricher = new Enricher(kb, matcher, { fields: ['message'], format: 'auto' });
    const options = { input: '-', emit: 'all' as const, format: 'json' as const, inputFormat: 'auto' as const, fields: ['message'], maxLineBytes: 1000, batchSize: 6 };
    const init = {
      kb: kbSource(kb),
      matcher: { ignoreCase: true, cacheDir: TEST_CACHE_DIR, exactBudgetMs: 50, prebuiltDirs: [] },
      enrich: { fields: ['message'], format: 'auto' as const },
      render: { emit: 'all' as const, format: 'json' as const, maxLineBytes: 1000, fileName: '<stdin>', mining: null },
    };
    const collect = (): { stream: PassThrough; text: () => string } => {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
    };
    const ready = await startScanPool(2, init);
    let rendered = 0;
    const counting = { render: (inputs: readonly MessageInput[]) => (rendered++, ready.render(inputs)), close: () => ready.close() };
    const a = collect();
    const threaded = await runScan(options, enricher, a.stream, () => undefined, Readable.from([input()]), {}, { startAfterBatches: 0, start: async () => counting });
    const b = collect();
    const inline = await runScan(options, enricher, b.stream, () => undefined, Readable.from([input()]));
    expect(rendered).toBeGreaterThan(30);
    expect(a.text()).toBe(b.text());
    expect({ ...threaded, seconds: 0 }).toEqual({ ...inline, seconds: 0 });
  });

  it('scans on when the cache cannot be written, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logsift-nocache-'));
    try {
      const notADir = join(dir, 'file');
      await writeFile(notADir, 'x');
      const r = await runCli(['scan', '--kb', STARTER_KB, '--cache-dir', notADir, '--threads', '1'], demo);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/could not write the KB snapshot in .*file: /);
      expect(r.stdout.split('\n').filter((l) => l !== '').length).toBeGreaterThan(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('scans in one thread, and says so, when the workers cannot start', async () => {
    const { kb } = await loadKnowledgeBase([STARTER_KB]);
    const matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
    const enricher = new Enricher(kb, matcher, { fields: ['message'], format: 'auto' });
    // A budget the exact engine refuses: each worker fails while building its matcher.
    const init = {
      kb: kbSource(kb),
      matcher: { ignoreCase: true, cacheDir: TEST_CACHE_DIR, exactBudgetMs: 0, prebuiltDirs: [] },
      enrich: { fields: ['message'], format: 'auto' as const },
      render: { emit: 'matched' as const, format: 'json' as const, maxLineBytes: 1 << 20, fileName: '<stdin>', mining: null },
    };
    const options = { input: '-', emit: 'matched' as const, format: 'json' as const, inputFormat: 'auto' as const, fields: ['message'], maxLineBytes: 1 << 20, batchSize: 5 };
    let stderr = '';
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const started = startScanPool(2, init);
    started.catch(() => undefined); // asserted below
    const summary = await runScan(options, enricher, out, (t) => (stderr += t), Readable.from([input()]), {}, { startAfterBatches: 1, start: () => started });
    await expect(started).rejects.toThrow(/scan worker could not start: exact-engine budget must be positive/);
    expect(stderr).toMatch(/scan worker threads could not start \(scan worker could not start: exact-engine budget must be positive.*\); scanning in one thread/);
    expect(summary.lines).toBe(10 * 23 + 3); // with the two bad lines; the long one is under the 1 MiB default
    const inline = await runScan(options, enricher, new PassThrough().resume(), () => undefined, Readable.from([input()]));
    expect(summary.matched).toBe(inline.matched);
    expect(Buffer.concat(chunks).toString().split('\n').length).toBe(inline.matched + 1);
  });
});
