/**
 * The contract: a record matches a message when its regex, under Python `re` with IGNORECASE, finds
 * a match anywhere in it. shared/eval/dev-lines.jsonl holds Python's answers for 3,181 lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher, MessageWords, buildSignatureIndex, rankMatches, scoreMatch } from '../../../src/enrich/index.js';
import { loadKnowledgeBase, type KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { DEADENDS_RECORDS, REPO_ROOT, TEST_CACHE_DIR, readDevLines, type DevLine } from '../../helpers/shared.js';

const WILD_ERRORS = join(REPO_ROOT, 'test', 'fixtures', 'wild-errors.jsonl');

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

describe('ranking and match strength on the dev lines (auto input format, as scan and run use)', () => {
  const primaryOf = (e: Enricher, line: string): string | null => e.enrichBatch([line], [{}])[0]!.signatureId;

  it('picks a source record as primary on >= 98.5% of lines whose source regex matches', () => {
    const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const evaluated = lines.filter((l) => l.source.some((s) => l.matches.includes(s)));
    const results = enricher.enrichBatch(evaluated.map((l) => l.line), evaluated.map(() => ({})));
    const hits = evaluated.filter((l, i) => l.source.includes(results[i]!.signatureId ?? '')).length;
    expect(evaluated.length).toBeGreaterThan(1000);
    expect(hits / evaluated.length).toBeGreaterThanOrEqual(0.985);
  });

  it('gives a primary to <= 1% of the background lines (real logs, source: [])', () => {
    const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const background = lines.filter((l) => l.source.length === 0);
    const results = enricher.enrichBatch(background.map((l) => l.line), background.map(() => ({})));
    const withPrimary = results.filter((r) => r.matched).length;
    expect(background.length).toBeGreaterThan(1000);
    // Without the threshold a quarter of them get one: the measure, not the data, makes the difference.
    const pure = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: 0 });
    expect(pure.enrichBatch(background.map((l) => l.line), background.map(() => ({}))).filter((r) => r.matched).length / background.length).toBeGreaterThan(0.2);
    expect(withPrimary / background.length).toBeLessThanOrEqual(0.01);
  });

  it('keeps every regex match in `matches`, weak ones included, with a strength each (raw format: the Python contract)', () => {
    const enricher = new Enricher(kb, matcher, { fields: [], format: 'raw' });
    const results = enricher.enrichBatch(lines.map((l) => l.line), lines.map(() => ({})));
    lines.forEach((l, i) => {
      const e = results[i]!.event;
      expect([...e.matches].sort()).toEqual([...l.matches].sort());
      expect(e.match_strengths).toHaveLength(e.matches.length);
      for (const s of e.match_strengths) expect(s >= 0 && s <= 1).toBe(true);
      // Ranking is consistent with strength: best first, and the primary is the strongest match.
      for (let k = 1; k < e.match_strengths.length; k++) expect(e.match_strengths[k]).toBeLessThanOrEqual(e.match_strengths[k - 1]!);
      if (e.signature_id !== null) expect(e.strength).toBe(e.match_strengths[0]);
    });
  });

  it('--min-strength 0 restores pure regex semantics: every matched line has a primary', () => {
    const pure = new Enricher(kb, matcher, { fields: [], format: 'raw', minStrength: 0 });
    const matchedLines = lines.filter((l) => l.matches.length > 0).slice(0, 400);
    for (const l of matchedLines) expect(primaryOf(pure, l.line)).not.toBeNull();
  });

  it('keeps the right primary on real-world error lines written unlike the signatures (test/fixtures/wild-errors.jsonl)', () => {
    // Lines as kubelet, mongod, PostgreSQL, the JVM, nginx, … really print them, labelled by hand with
    // the records that explain them ([] where none does). Not tuned against: a check that real errors
    // are not silenced along with the noise. The second half (from line 38) was written and labelled
    // before the ambiguity check (technology.ts) was run on it: 16 of its 20 errors keep their right
    // primary with the check and without it.
    const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const wild = readFileSync(WILD_ERRORS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: string; expect: string[] });
    const labelled = wild.filter((w) => w.expect.length > 0);
    const right = labelled.filter((w) => w.expect.includes(primaryOf(enricher, w.line) ?? '')).length;
    const wrong = wild.filter((w) => {
      const p = primaryOf(enricher, w.line);
      return p !== null && !w.expect.includes(p);
    }).length;
    expect(labelled.length).toBeGreaterThanOrEqual(50);
    expect(right / labelled.length).toBeGreaterThanOrEqual(0.8);
    expect(wrong / wild.length).toBeLessThanOrEqual(0.08);
  });

  it('orders exactly as one comparison on strength, score, confidence, span and id would (the reference)', () => {
    const index = buildSignatureIndex(kb);
    const multi = lines.filter((l) => l.matches.length > 1);
    let spanTies = 0;
    for (const l of multi) {
      const matches = [...matcher.scan([l.line])[0]!];
      const words = new MessageWords(l.line);
      const lower = l.line.slice(0, 4096).toLowerCase();
      const tokens = new Set(lower.match(/[\p{L}\p{N}]+/gu) ?? []);
      const key = (i: number) => ({ i, strength: index.strength.strength(i, words), score: scoreMatch(index, i, lower, tokens), confidence: kb.heads[i]!.confidence ?? 0, span: matcher.spanLength(i, l.line), id: kb.heads[i]!.id });
      const reference = matches
        .map(key)
        .sort((a, b) => b.strength - a.strength || b.score - a.score || b.confidence - a.confidence || b.span - a.span || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((k) => k.i);
      let asked = 0;
      const ranked = rankMatches(l.line, matches, kb, index, (rs) => ((asked += rs.length), rs.map((r) => matcher.spanLength(r, l.line)))).map((r) => r.index);
      expect(ranked).toEqual(reference);
      if (asked > 0) spanTies++;
    }
    expect(spanTies).toBeGreaterThan(5); // the span tie-break is exercised
  });

  it('is deterministic: the same line always ranks the same way, whatever the match order', () => {
    const enricher = new Enricher(kb, matcher, { fields: [], format: 'raw' });
    const multi = lines.filter((l) => l.matches.length > 3).slice(0, 250);
    expect(multi).toHaveLength(250);
    for (const l of multi) {
      const a = enricher.rankText(l.line).map((r) => r.index);
      const index = buildSignatureIndex(kb);
      const shuffled = [...matcher.scan([l.line])[0]!].reverse();
      const b = rankMatches(l.line, shuffled, kb, index, (rs) => rs.map((r) => matcher.spanLength(r, l.line))).map((r) => r.index);
      expect(b).toEqual(a);
    }
  });
});
