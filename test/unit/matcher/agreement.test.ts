/**
 * The contract: a record matches a message when its regex, under Python `re` with IGNORECASE, finds
 * a match anywhere in it. shared/eval/dev-lines.jsonl holds Python's answers for 3,181 lines.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { Enricher, buildSignatureIndex, rankMatches } from '../../../src/enrich/index.js';
import { loadKnowledgeBase, type KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { DEADENDS_RECORDS, TEST_CACHE_DIR, readDevLines, type DevLine } from '../../helpers/shared.js';

let kb: KnowledgeBase;
let matcher: Matcher;
let lines: DevLine[];

beforeAll(async () => {
  ({ kb } = await loadKnowledgeBase([DEADENDS_RECORDS]));
  matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR, unicode: 'wait' });
  lines = readDevLines();
});

describe('agreement with Python re on the dev lines', () => {
  it('puts every one of the 2,522 records in a compile class and rejects none', () => {
    expect(matcher.plan).toHaveLength(2522);
    expect(matcher.info.patterns.rejected).toBe(0);
    expect(Object.values(matcher.info.patterns).reduce((a, b) => a + b, 0)).toBe(2522);
  });

  it('matches the same record set as Python on >= 99.9% of lines', () => {
    const results = matcher.scan(lines.map((l) => l.line));
    const disagreements: string[] = [];
    lines.forEach((l, i) => {
      const got = results[i]!.map((idx) => kb.records[idx]!.id).sort();
      const want = [...l.matches].sort();
      if (got.join('\n') !== want.join('\n')) disagreements.push(`${l.line}\n  got  ${got.join(', ')}\n  want ${want.join(', ')}`);
    });
    const agreement = 1 - disagreements.length / lines.length;
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(agreement).toBeGreaterThanOrEqual(0.999);
  });

  it('gives the same answers one message per call as in one batch', () => {
    const sample = lines.slice(0, 300).map((l) => l.line);
    const batched = matcher.scan(sample);
    const single = sample.map((s) => matcher.scan([s])[0]);
    expect(single).toEqual(batched);
  });
});

describe('ranking on the dev lines', () => {
  it('picks a source record as primary on >= 99% of lines whose source regex matches', () => {
    const index = buildSignatureIndex(kb);
    const evaluated = lines.filter((l) => l.source.some((s) => l.matches.includes(s)));
    const results = matcher.scan(evaluated.map((l) => l.line));
    let hits = 0;
    evaluated.forEach((l, i) => {
      const ranked = rankMatches(l.line, results[i]!, kb, index, (r) => matcher.spanLength(r, l.line));
      if (l.source.includes(kb.records[ranked[0]!.index]!.id)) hits++;
    });
    expect(evaluated.length).toBeGreaterThan(1000);
    expect(hits / evaluated.length).toBeGreaterThanOrEqual(0.99);
  });

  it('is deterministic: the same line always ranks the same way, whatever the match order', () => {
    const enricher = new Enricher(kb, matcher, { fields: [], format: 'raw' });
    const multi = lines.filter((l) => l.matches.length > 3).slice(0, 50);
    for (const l of multi) {
      const a = enricher.rankText(l.line).map((r) => r.index);
      const index = buildSignatureIndex(kb);
      const shuffled = [...matcher.scan([l.line])[0]!].reverse();
      const b = rankMatches(l.line, shuffled, kb, index, (r) => matcher.spanLength(r, l.line)).map((r) => r.index);
      expect(b).toEqual(a);
    }
  });
});
