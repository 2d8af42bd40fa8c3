/**
 * Multi-line messages against the 2,522-record KB, with Python `re`'s answers (made by
 * scripts/gen-multiline-fixture.py into the test cache on first use, from ../shared): dev lines joined
 * in twos, below a message field, split at a space, with CRLF, a trailing newline or a stack trace.
 * The database is DOTALL: a record whose `.` must not cross a newline is decided from the message's
 * lines when one of them matches it, by the exact engine otherwise.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { loadKnowledgeBase, type KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { DEADENDS_RECORDS, TEST_CACHE_DIR, pythonAnswers, type PythonAnswer } from '../../helpers/shared.js';

let kb: KnowledgeBase;
let matcher: Matcher;
let lines: PythonAnswer[];

beforeAll(async () => {
  ({ kb } = await loadKnowledgeBase([DEADENDS_RECORDS]));
  matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR, unicode: 'wait' });
  lines = pythonAnswers('gen-multiline-fixture.py');
});

describe('multi-line messages match like Python re', () => {
  it('covers every way of putting a line on several', () => {
    expect(lines).toHaveLength(950);
    expect(new Set(lines.map((l) => l.case)).size).toBe(13);
    // Splitting a line loses some of its `.` matches: the answers are not the one-line answers.
    expect(lines.filter((l) => l.case === 'split-at-space' && l.matches.length === 0).length).toBeGreaterThan(3);
    expect(lines.every((l) => l.line.includes('\n'))).toBe(true);
  });

  it('gives the same record sets as Python on every message', () => {
    const results = matcher.scan(lines.map((l) => l.line));
    const out: string[] = [];
    lines.forEach((l, i) => {
      const got = results[i]!.map((idx) => kb.records[idx]!.id).sort();
      if (got.join('\n') !== l.matches.join('\n')) out.push(`${l.case}: ${JSON.stringify(l.line)}\n  got  ${got.join(', ')}\n  want ${l.matches.join(', ')}`);
    });
    expect(out).toEqual([]);
  });

  it('asks the exact engine only about records that can match a newline and that no line matches', () => {
    // The KB's records are all native: the only exact-engine work here is `.` across a newline.
    expect(matcher.info.patterns.native).toBe(2522);
    // Non-ASCII lines among them: the Unicode database's patterns are decided from the lines too.
    expect(lines.filter((l) => /[^\n\r\t\x20-\x7e]/.test(l.line)).length).toBeGreaterThan(150);
    const asked: string[] = [];
    const test = matcher.exact.test;
    matcher.exact.test = (tasks) => {
      for (const t of tasks) for (const p of t.patterns) asked.push(kb.records[p]!.id);
      return test.call(matcher.exact, tasks);
    };
    try {
      const results = matcher.scan(lines.map((l) => l.line));
      expect(results.map((r) => r.map((i) => kb.records[i]!.id).sort())).toEqual(lines.map((l) => l.matches));
    } finally {
      matcher.exact.test = test;
    }
    // A match within a line never needs the engine, nor does a record nothing of which matches a
    // newline (no line matching it is no match): only records that can (a \s, a negated class) are
    // asked, when no line matches them.
    const byId = new Map(matcher.plan.map((p) => [p.id, p]));
    expect(asked.filter((id) => byId.get(id)!.features?.matchesNewline !== true)).toEqual([]);
  });
});
