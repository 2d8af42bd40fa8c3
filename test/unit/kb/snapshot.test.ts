import { readFile, readdir, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { kbSource, loadKnowledgeBaseCached, openKbSource, type SnapshotEvent } from '../../../src/kb/snapshot.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-snapshot');

const rec = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, signature: `sig ${id}`, regex: `${id} failed`, domain: 'd', category: 'c', root_cause: 'rc', workarounds: [{ action: 'x' }], ...extra });

async function setup(): Promise<{ kbDir: string; cache: string; events: SnapshotEvent['type'][]; load: (allowInvalid?: boolean) => ReturnType<typeof loadKnowledgeBaseCached> }> {
  const kbDir = await tempDir();
  const cache = await tempDir();
  await writeFile(join(kbDir, 'a.jsonl'), `${rec('b')}\n${rec('a')}\n`);
  const events: SnapshotEvent['type'][] = [];
  return { kbDir, cache, events, load: (allowInvalid = false) => loadKnowledgeBaseCached([kbDir], { allowInvalid }, cache, (e) => events.push(e.type)) };
}

describe('KB snapshot (cached start)', () => {
  it('restores the same knowledge base: records, order, sources, version and ids', async () => {
    const { kbDir, events, load } = await setup();
    const first = await load();
    const second = await load();
    expect(events).toEqual(['kb-cache-miss', 'kb-cache-hit']);
    const fresh = (await loadKnowledgeBase([kbDir])).kb;
    for (const { kb } of [first, second]) {
      expect(kb.version).toBe(fresh.version);
      expect(kb.records).toEqual(fresh.records);
      expect(kb.sources).toEqual(fresh.sources);
      expect(kb.indexOf('b')).toBe(1);
      expect(kb.workaroundIds(0)).toEqual(['a#w1']);
      expect(kb.heads.map((h) => h.id)).toEqual(['a', 'b']);
      expect(kb.record(1)).toEqual(fresh.records[1]);
      expect(kb.get('b')).toEqual(fresh.records[1]);
      expect(kb.signatureWords(1)).toEqual(fresh.signatureWords(1));
      expect(kb.signatureWords(1)).toEqual(['sig', 'b']);
      expect(kb.regexWords(1)).toEqual(fresh.regexWords(1));
    }
  });

  it('hands worker threads the snapshot bytes it was read from, shared, or else the validated records', async () => {
    const { kbDir, load } = await setup();
    const first = await load(); // a miss: loaded and validated here, no snapshot read
    expect('state' in kbSource(first.kb)).toBe(true);
    const { kb } = await load();
    const source = kbSource(kb);
    if (!('snapshot' in source)) throw new Error('expected a snapshot source');
    expect(source.snapshot.bytes).toBeInstanceOf(SharedArrayBuffer);
    expect(kbSource(kb)).toEqual(source); // shared once, not copied per worker
    // The worker's KB: the same records, words and version, records parsed on first use.
    await writeFile(join(kbDir, 'a.jsonl'), `${rec('c')}\n`); // the files may change meanwhile: the bytes do not
    const opened = openKbSource(structuredClone(source));
    expect(opened.version).toBe(kb.version);
    expect(opened.records).toEqual(kb.records);
    expect(opened.signatureWords(0)).toEqual(kb.signatureWords(0));
    expect(opened.regexWords(1)).toEqual(kb.regexWords(1));
    expect(() => openKbSource({ snapshot: { ...source.snapshot, version: 'kb-0000000000000000' } })).toThrow(expect.objectContaining({ code: 'LOGSIFT_KB_READ' }));
    expect(() => openKbSource({ snapshot: { ...source.snapshot, key: 'other' } })).toThrow(expect.objectContaining({ code: 'LOGSIFT_KB_READ' }));
    expect(openKbSource(kbSource(first.kb)).records).toEqual(kb.records);
  });

  it('parses a record only when it is asked for, and says so when that record is damaged', async () => {
    const { cache, events, load } = await setup();
    await load();
    const [file] = (await readdir(cache)).filter((f) => f.startsWith('kb-'));
    const path = join(cache, file!);
    // Same length, record "b"'s id changed: the header still checks out, record "b" does not.
    const text = await readFile(path, 'utf8');
    const at = text.lastIndexOf('{"id":"b"');
    await writeFile(path, `${text.slice(0, at)}{"id":"x"${text.slice(at + 9)}`);
    const { kb } = await load();
    expect(events).toEqual(['kb-cache-miss', 'kb-cache-hit']);
    expect(kb.heads[1]).toMatchObject({ id: 'b', signature: 'sig b', regex: 'b failed', domain: 'd', category: 'c' });
    expect(kb.record(0).id).toBe('a');
    expect(() => kb.record(1)).toThrow(expect.objectContaining({ code: 'LOGSIFT_KB_READ', file: path }));
  });

  it('notices a changed file (content, size or mtime) and loads it again', async () => {
    const { kbDir, events, load } = await setup();
    await load();
    // Same size, same mtime, different content: the content hash catches it.
    const file = join(kbDir, 'a.jsonl');
    await writeFile(file, `${rec('c')}\n${rec('a')}\n`);
    await utimes(file, new Date(1_000_000), new Date(1_000_000));
    const { kb } = await load();
    expect(kb.get('c')).toBeDefined();
    expect(kb.get('b')).toBeUndefined();
    // A new file in the directory.
    await writeFile(join(kbDir, 'z.json'), rec('z'));
    expect((await load()).kb.size).toBe(3);
    expect(events).toEqual(['kb-cache-miss', 'kb-cache-miss', 'kb-cache-miss']);
  });

  it('keeps the skipped-record problems of --allow-invalid, and keys on that option', async () => {
    const { kbDir, events, load } = await setup();
    await writeFile(join(kbDir, 'bad.json'), JSON.stringify({ id: 'bad' }));
    await expect(load()).rejects.toThrow(/invalid knowledge-base record/);
    const first = await load(true);
    const second = await load(true);
    expect(events.slice(-2)).toEqual(['kb-cache-miss', 'kb-cache-hit']);
    expect(second.problems.map((p) => p.location)).toEqual(first.problems.map((p) => p.location));
    expect(second.problems[0]).toMatchObject({ code: 'LOGSIFT_KB_RECORD_INVALID', file: join(kbDir, 'bad.json') });
    expect(second.kb.size).toBe(2);
  });

  it('ignores a corrupted or foreign snapshot', async () => {
    const { cache, events, load } = await setup();
    await load();
    const [file] = (await readdir(cache)).filter((f) => f.startsWith('kb-'));
    await writeFile(join(cache, file!), '{"key":"other","kb":{}}');
    expect((await load()).kb.size).toBe(2);
    await writeFile(join(cache, file!), 'not json');
    expect((await load()).kb.size).toBe(2);
    await writeFile(join(cache, file!), 'null\n');
    expect((await load()).kb.size).toBe(2);
    // Truncated: the records' bytes do not add up to what the header says.
    const whole = await readFile(join(cache, file!));
    await writeFile(join(cache, file!), whole.subarray(0, whole.length - 1));
    expect((await load()).kb.record(1).id).toBe('b');
    expect(events).toEqual(['kb-cache-miss', 'kb-cache-miss', 'kb-cache-miss', 'kb-cache-miss', 'kb-cache-miss']);
  });
});
