/**
 * `unmatchedEvents: false` (scan --emit matched, the daemon without an unmatched topic): the same
 * primaries, weak flags and match sets as the full path on the 2,522-record KB, the same bytes for
 * every matched event, and no event text for the rest — the work a caller would throw away.
 */
import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher, type MessageInput } from '../../../src/enrich/index.js';
import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { DEADENDS_RECORDS, TEST_CACHE_DIR, readDevLines } from '../../helpers/shared.js';

describe('Enricher.process without unmatched events', () => {
  it('keeps every primary, weak flag and match set; matched events byte for byte; no JSON for the rest', async () => {
    const { kb } = await loadKnowledgeBase([DEADENDS_RECORDS]);
    const matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
    const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const lines = readDevLines().map((l) => l.line);
    const inputs: MessageInput[] = lines.map((line, i) => ({ value: Buffer.from(line), source: { file: 'dev', line: i + 1 } }));
    const full = enricher.process(inputs, { maxMessageBytes: 1 << 20 });
    const lean = enricher.process(inputs, { maxMessageBytes: 1 << 20, unmatchedEvents: false });
    let weak = 0;
    let matched = 0;
    full.forEach((f, i) => {
      const l = lean[i]!;
      expect(l.kind, lines[i]).toBe(f.kind);
      if (f.kind === 'poison' || l.kind === 'poison') return;
      expect(l.result.signatureId).toBe(f.result.signatureId);
      expect(l.result.weak).toBe(f.result.weak);
      expect([...l.result.matchIds].sort()).toEqual([...f.result.matchIds].sort());
      if (f.result.matched) {
        matched++;
        expect(l.json).toBe(f.json);
      } else {
        expect(l.json).toBe('');
        if (f.result.weak) weak++;
      }
    });
    // The dev set has both kinds in numbers, so the comparison covers them.
    expect(matched).toBeGreaterThan(1000);
    expect(weak).toBeGreaterThan(20);
    matcher.close();
  });
});
