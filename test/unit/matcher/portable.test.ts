import { readFile, writeFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { Matcher, PORTABLE_PLATFORM, cacheFile, cacheKey, loadNative, unicodeCacheFile, type BuildEvent } from '../../../src/matcher/index.js';
import { runCli } from '../../helpers/cli.js';
import { STARTER_KB } from '../../helpers/shared.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-portable');
const AVX512 = 8; // HS_CPU_FEATURES_AVX512
const LINES = ['FATAL:  sorry, too many clients already', 'all good', 'fatal error: concurrent map writes', 'OOMKilled'];

/** The body of a .lsdb file: MAGIC (8 bytes), header length (4 bytes), header, database. */
function splitFile(bytes: Buffer): { head: Buffer; body: Buffer } {
  const end = 12 + bytes.readUInt32LE(8);
  return { head: bytes.subarray(0, end), body: bytes.subarray(end) };
}

describe('portable compiled databases (an image ships its bundled KB compiled)', () => {
  it('`kb compile --portable` writes a generic x86-64 database that a host with no cache of its own loads', async () => {
    const prebuilt = await tempDir();
    const r = await runCli(['kb', 'compile', '--kb', STARTER_KB, '--portable', '--cache-dir', prebuilt]);
    expect(r.code).toBe(0);
    const [file, unicodeFile, ...more] = r.stdout.trim().split('\n');
    const { kb } = await loadKnowledgeBase([STARTER_KB]);
    const native = loadNative();
    expect(file).toBe(cacheFile(prebuilt, cacheKey(native, kb.records, true, true)));
    // The Unicode database too (the starter KB has records with Unicode-sensitive patterns).
    expect(unicodeFile).toBe(unicodeCacheFile(prebuilt, cacheKey(native, kb.records, true, true)));
    expect(more).toEqual([]);
    expect(cacheKey(native, kb.records, true, true)).not.toBe(cacheKey(native, kb.records, true));
    // No optional CPU feature (AVX2, AVX512…) in the database: any x86-64 host with libhs can run it.
    expect(native.serializedInfo(splitFile(await readFile(file!)).body)).toMatch(/Features:\s+Mode/);

    const events: BuildEvent[] = [];
    const cache = await tempDir();
    const fromImage = await Matcher.create(kb, { cacheDir: cache, prebuiltDirs: [prebuilt], onEvent: (e) => events.push(e) });
    expect(fromImage.info.fromCache).toBe(true);
    expect(events.filter((e) => e.type === 'cache-hit')).toEqual([expect.objectContaining({ file })]);
    expect(events.filter((e) => e.type === 'unicode-ready')).toEqual([expect.objectContaining({ fromCache: true })]);
    expect(fromImage.unicodeComplete).toBe(true);
    const compiled = await Matcher.create(kb, { cacheDir: null });
    expect(fromImage.scan(LINES)).toEqual(compiled.scan(LINES));
    expect(fromImage.scan(LINES)[0]!.length).toBeGreaterThan(0);

    // --no-cache (cacheDir null) means compile: prebuilt directories are not read either.
    const noCache = await Matcher.create(kb, { cacheDir: null, prebuiltDirs: [prebuilt] });
    expect(noCache.info.fromCache).toBe(false);
  });

  it.skipIf((Number(loadNative().platform().cpuFeatures ?? 0) & AVX512) !== 0)(
    'compiles instead when this host cannot run the shipped database, and caches its own',
    async () => {
      const prebuilt = await tempDir();
      const { kb } = await loadKnowledgeBase([STARTER_KB]);
      const native = loadNative();
      await Matcher.create(kb, { cacheDir: prebuilt, portable: true });
      const file = cacheFile(prebuilt, cacheKey(native, kb.records, true, true));
      // The same file, but its database built for AVX512, which this host lacks.
      const foreign = await native.compile([{ expression: 'x', flags: 0, id: 0 }], { ...PORTABLE_PLATFORM, cpuFeatures: AVX512 });
      await writeFile(file, Buffer.concat([splitFile(await readFile(file)).head, foreign.serialize()]));

      const reasons: string[] = [];
      const cache = await tempDir();
      const m = await Matcher.create(kb, { cacheDir: cache, prebuiltDirs: [prebuilt], onEvent: (e) => e.type === 'cache-miss' && reasons.push(e.reason) });
      expect(m.info.fromCache).toBe(false);
      expect(reasons).toContainEqual(expect.stringMatching(/HS_DB_PLATFORM_ERROR/));
      expect(m.scan(LINES)).toEqual((await Matcher.create(kb, { cacheDir: null })).scan(LINES));
      expect((await Matcher.create(kb, { cacheDir: cache, prebuiltDirs: [prebuilt] })).info.fromCache).toBe(true);
    },
  );

  it('refuses a malformed compile target', () => {
    const native = loadNative();
    expect(() => native.compile([{ expression: 'x', flags: 0, id: 0 }], { tune: 'generic' } as unknown as typeof PORTABLE_PLATFORM)).toThrow(/platform must be/);
  });
});
