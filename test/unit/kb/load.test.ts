import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { KbValidationError, LogsiftError } from '../../../src/errors.js';
import { KnowledgeBase, canonToRecord, loadKnowledgeBase, loadRecords, workaroundIds, deadEndIds } from '../../../src/kb/index.js';
import { DEADENDS_CANONS, DEADENDS_RECORDS, SEED_RECORD } from '../../helpers/shared.js';
import { record } from '../../helpers/kb.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-kb');

const valid = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  signature: `sig ${id}`,
  regex: `${id} failed`,
  domain: 'd',
  category: 'c',
  root_cause: 'rc',
  ...extra,
});

describe('loadRecords', () => {
  it('reads the seed record (the format reference)', async () => {
    const { records } = await loadRecords([SEED_RECORD]);
    expect(records).toHaveLength(1);
    expect(records[0]!.record.id).toBe('dotnet/httpclient-socket-connection-pool-exhausted');
    expect(workaroundIds(records[0]!.record)).toEqual([
      'dotnet/httpclient-socket-connection-pool-exhausted#w1',
      'dotnet/httpclient-socket-connection-pool-exhausted#w2',
      'dotnet/httpclient-socket-connection-pool-exhausted#w3',
    ]);
  });

  it('reads one record, arrays, JSON Lines and directory trees', async () => {
    const d = await tempDir();
    await mkdir(join(d, 'sub'));
    await writeFile(join(d, 'one.json'), JSON.stringify(valid('a')));
    await writeFile(join(d, 'many.json'), JSON.stringify([valid('b'), valid('c')], null, 2));
    await writeFile(join(d, 'sub', 'lines.jsonl'), `${JSON.stringify(valid('d'))}\n\n${JSON.stringify(valid('e'))}\n`);
    await writeFile(join(d, 'notes.txt'), 'ignored');
    const { records } = await loadRecords([d]);
    expect(records.map((r) => r.record.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const e = records.find((r) => r.record.id === 'e')!;
    expect(e.file).toBe(join(d, 'sub', 'lines.jsonl'));
    expect(e.line).toBe(3);
    const c = records.find((r) => r.record.id === 'c')!;
    expect(c.line).toBe(10);
  });

  it('names file, line and field of every invalid record, and fails the load', async () => {
    const d = await tempDir();
    const file = join(d, 'bad.jsonl');
    await writeFile(file, [JSON.stringify(valid('ok')), JSON.stringify(valid('bad1', { regex: '' })), JSON.stringify(valid('bad2', { confidence: 3, workarounds: [{ how: 'x' }] }))].join('\n'));
    const err = await loadRecords([file]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KbValidationError);
    const problems = (err as KbValidationError).problems.map((p) => `${p.file}:${p.line}: ${p.field}`).sort();
    expect(problems).toEqual([`${file}:2: regex`, `${file}:3: confidence`, `${file}:3: workarounds[0].action`].sort());
    expect((err as KbValidationError).problems[0]!.code).toBe('LOGSIFT_KB_RECORD_INVALID');
  });

  it('goes on with the valid records only when the user opts in', async () => {
    const d = await tempDir();
    const file = join(d, 'mixed.jsonl');
    await writeFile(file, [JSON.stringify(valid('ok')), '{"id": "x"}'].join('\n'));
    const { records, problems } = await loadRecords([file], { allowInvalid: true });
    expect(records.map((r) => r.record.id)).toEqual(['ok']);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.line === 2)).toBe(true);
  });

  it('reports unparsable JSON with its line', async () => {
    const d = await tempDir();
    const file = join(d, 'broken.jsonl');
    await writeFile(file, `${JSON.stringify(valid('ok'))}\n{"id": \n`);
    const err = (await loadRecords([file]).catch((e: unknown) => e)) as KbValidationError;
    expect(err.problems[0]).toMatchObject({ code: 'LOGSIFT_KB_PARSE', line: 2 });
  });

  it('rejects duplicate ids, naming both places, even with allowInvalid', async () => {
    const d = await tempDir();
    await writeFile(join(d, 'a.json'), JSON.stringify(valid('same')));
    await writeFile(join(d, 'b.json'), JSON.stringify(valid('same')));
    const err = (await loadRecords([d], { allowInvalid: true }).catch((e: unknown) => e)) as KbValidationError;
    expect(err.problems[0]).toMatchObject({ code: 'LOGSIFT_KB_DUPLICATE_ID', file: join(d, 'b.json'), field: 'id' });
    expect(err.problems[0]!.message).toContain(join(d, 'a.json'));
  });

  it('fails clearly on a path that does not exist', async () => {
    const err = await loadRecords(['/nonexistent/kb']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogsiftError);
    expect(err).toMatchObject({ code: 'LOGSIFT_KB_READ', file: '/nonexistent/kb' });
  });
});

describe('KnowledgeBase', () => {
  it('has a content-hash version independent of key order and file order', () => {
    const a = record('x', 'boom', { tags: ['t'] });
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    const v1 = new KnowledgeBase([{ record: a, file: 'f', line: 1 }, { record: record('y', 'bang'), file: 'f', line: 2 }]).version;
    const v2 = new KnowledgeBase([{ record: record('y', 'bang'), file: 'g', line: 9 }, { record: reordered, file: 'g', line: 1 }]).version;
    const v3 = new KnowledgeBase([{ record: record('x', 'boom!', { tags: ['t'] }), file: 'f', line: 1 }, { record: record('y', 'bang'), file: 'f', line: 2 }]).version;
    expect(v1).toMatch(/^kb-[0-9a-f]{16}$/);
    expect(v2).toBe(v1);
    expect(v3).not.toBe(v1);
  });

  it('gives stable workaround and dead-end ids, honouring an item\'s own id', () => {
    const kb = new KnowledgeBase([{ record: record('r', 'x'), file: 'f', line: 1 }]);
    expect(kb.workaroundIds(0)).toEqual(['r#w1', 'custom-r']);
    expect(deadEndIds(kb.records[0]!)).toEqual(['r#d1']);
  });

  it('refuses to be empty', () => {
    expect(() => new KnowledgeBase([])).toThrow(/no records/);
  });
});

describe('deadends.dev canon importer', () => {
  it('converts every canon to the shared records.jsonl, field for field', () => {
    const canons = readFileSync(DEADENDS_CANONS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = readFileSync(DEADENDS_RECORDS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(canons).toHaveLength(expected.length);
    const mapped = ['id', 'signature', 'regex', 'domain', 'category', 'root_cause', 'versions', 'os_specific', 'dead_ends', 'workarounds', 'verification_tier', 'confidence', 'fix_success_rate', 'resolvable', 'first_seen', 'last_confirmed', 'last_updated', 'evidence_count'];
    canons.forEach((c, i) => {
      const r = canonToRecord(c);
      for (const f of mapped) expect(r[f], `${String(c['id'])}: ${f}`).toEqual(expected[i]![f]);
    });
  });

  it('loads canons directly, validated like seed records', async () => {
    const { kb } = await loadKnowledgeBase([DEADENDS_CANONS]);
    const { kb: fromRecords } = await loadKnowledgeBase([DEADENDS_RECORDS]);
    expect(kb.size).toBe(2522);
    expect(kb.records.map((r) => r.regex)).toEqual(fromRecords.records.map((r) => r.regex));
  });
});
