/**
 * Non-ASCII messages against the 2,522-record KB, with Python `re`'s answers
 * (made by scripts/gen-nonascii-fixture.py into the test cache on first use): Unicode spaces,
 * \x1c–\x1f (ASCII, but Python's `\s`), non-ASCII letters and digits beside `\w \b \d`. Checked for
 * each way a message can be served: the Unicode database, the exact engine while the Unicode
 * database is not there yet, and a Unicode database attached later (as a worker thread gets it).
 */
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadKnowledgeBase, type KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher, cacheKey, loadNative } from '../../../src/matcher/index.js';
import { DEADENDS_RECORDS, TEST_CACHE_DIR, pythonAnswers, type PythonAnswer } from '../../helpers/shared.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-nonascii');
let kb: KnowledgeBase;
let full: Matcher;
let lines: PythonAnswer[];

function disagreements(m: Matcher): string[] {
  const results = m.scan(lines.map((l) => l.line));
  const out: string[] = [];
  lines.forEach((l, i) => {
    const got = results[i]!.map((idx) => kb.records[idx]!.id).sort();
    if (got.join('\n') !== l.matches.join('\n')) out.push(`${l.case}: ${JSON.stringify(l.line)}\n  got  ${got.join(', ')}\n  want ${l.matches.join(', ')}`);
  });
  return out;
}

/** A matcher that has the ASCII database only (copied from the shared cache), no Unicode parts. */
async function asciiOnly(): Promise<Matcher> {
  const dir = await tempDir();
  const key = cacheKey(loadNative(), kb.records, true).slice(0, 32);
  expect(await readdir(TEST_CACHE_DIR)).toContain(`${key}.u.lsdb`);
  await copyFile(join(TEST_CACHE_DIR, `${key}.lsdb`), join(dir, `${key}.lsdb`));
  return Matcher.create(kb, { cacheDir: dir, unicode: 'cache-only' });
}

beforeAll(async () => {
  ({ kb } = await loadKnowledgeBase([DEADENDS_RECORDS]));
  full = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR, unicode: 'wait' });
  lines = pythonAnswers('gen-nonascii-fixture.py');
});

describe('non-ASCII messages match like Python re', () => {
  it('covers every rewrite, including ASCII-only lines with \\x1f', () => {
    expect(lines).toHaveLength(718);
    expect(new Set(lines.map((l) => l.case)).size).toBe(9);
    expect(lines.filter((l) => l.case === 'record-separator' && l.matches.length > 0).length).toBeGreaterThan(5);
    expect(lines.some((l) => l.case === 'unit-separator' && [...l.line].every((c) => c === '\x1f' || (c >= ' ' && c <= '~')) && l.line.includes('\x1f') && l.matches.length > 0)).toBe(true);
  });

  it('with the Unicode database', () => {
    expect(full.unicodeComplete).toBe(true);
    expect(disagreements(full)).toEqual([]);
  });

  it('with the exact engine while the Unicode database is missing, then with it attached', async () => {
    const m = await asciiOnly();
    expect(m.unicodeComplete).toBe(false);
    expect(disagreements(m)).toEqual([]);
    m.attachUnicode(full.exportUnicode());
    expect(m.unicodeComplete).toBe(true);
    expect(disagreements(m)).toEqual([]);
  });

  it('answers ASCII lines from the ASCII database alone, like the full matcher', async () => {
    const m = await asciiOnly();
    const ascii = ['connection refused: errno 111', 'java.lang.OutOfMemoryError: Java heap space', 'ERROR: relation "users" does not exist'];
    expect(m.scan(ascii)).toEqual(full.scan(ascii));
  });
});
