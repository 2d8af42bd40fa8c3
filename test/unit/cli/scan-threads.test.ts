/**
 * `logsift scan --threads N`: worker threads give byte-for-byte the output of one thread, in input
 * order, with invalid lines interleaved where they were, and a worker that cannot start fails the scan.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { Enricher } from '../../../src/enrich/index.js';
import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { runScan } from '../../../src/cli/scan.js';
import { startScanPool } from '../../../src/cli/scan-pool.js';
import { runCli } from '../../helpers/cli.js';
import { REPO_ROOT, STARTER_KB, TEST_CACHE_DIR } from '../../helpers/shared.js';
import { PassThrough, Readable } from 'node:stream';

const demo = readFileSync(join(REPO_ROOT, 'data', 'samples', 'demo.log'));

/** 10 copies of the demo log, with an invalid UTF-8 line, an over-long line and non-ASCII lines among them. */
function input(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    parts.push(demo);
    if (i === 3) parts.push(Buffer.from([0x66, 0xff, 0x0a]));
    if (i === 6) parts.push(Buffer.from(`${'x'.repeat(2000)}\n`));
    if (i === 8) parts.push(Buffer.from('FATAL: sorry, too many clients already — connexion refusée\n'));
  }
  return Buffer.concat(parts);
}

describe('logsift scan --threads', () => {
  it('writes the same bytes as one thread, in input order, errors interleaved', async () => {
    const args = ['scan', '--kb', STARTER_KB, '--cache-dir', TEST_CACHE_DIR, '--emit', 'all', '--batch-size', '7', '--max-line-bytes', '1000'];
    const one = await runCli([...args, '--threads', '1'], input());
    const two = await runCli([...args, '--threads', '2'], input());
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const lines = one.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBe(10 * 23 + 3);
    expect(lines.filter((l) => l.includes('logsift.error/v1'))).toHaveLength(2);
    expect(two.stdout).toBe(one.stdout);
    const timeless = (t: string) => t.replace(/ in [\d.]+ m?s( \(\d+ lines\/s\))?/g, '');
    expect(timeless(two.stderr)).toBe(timeless(one.stderr));
    expect(one.stderr).toMatch(/:\d+: invalid UTF-8 at byte 1; line skipped/);
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

  it('fails the scan with a clear error when a worker cannot load the knowledge base', async () => {
    const { kb } = await loadKnowledgeBase([STARTER_KB]);
    const matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
    const enricher = new Enricher(kb, matcher, { fields: ['message'], format: 'auto' });
    const init = { kbPaths: [STARTER_KB], allowInvalid: false, ignoreCase: true, cacheDir: TEST_CACHE_DIR, fields: ['message'], inputFormat: 'auto' as const, emit: 'matched' as const, format: 'json' as const, fileName: '<stdin>', kbVersion: 'kb-not-this-one' };
    const options = { input: '-', emit: 'matched' as const, format: 'json' as const, inputFormat: 'auto' as const, fields: ['message'], maxLineBytes: 1 << 20, batchSize: 5 };
    await expect(
      runScan(options, enricher, new PassThrough(), () => undefined, Readable.from([input()]), {}, { startAfterBatches: 1, start: () => startScanPool(2, init) }),
    ).rejects.toThrow(/scan worker could not start: the knowledge base changed/);
  });
});
