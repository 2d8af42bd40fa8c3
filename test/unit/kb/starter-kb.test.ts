/** The starter KB in data/kb: valid, broad, and every record's example lines behave as written. */
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { loadKnowledgeBase, type KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { STARTER_KB, TEST_CACHE_DIR } from '../../helpers/shared.js';

let kb: KnowledgeBase;
let matcher: Matcher;

beforeAll(async () => {
  ({ kb } = await loadKnowledgeBase([STARTER_KB]));
  matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
});

describe('starter knowledge base', () => {
  it('has at least 30 team records across the ecosystems SREs run', () => {
    const team = kb.records.filter((r) => r.verification_tier === 'logsift_team');
    expect(team.length).toBeGreaterThanOrEqual(30);
    const domains = new Set(team.map((r) => r.domain));
    for (const d of ['jvm', 'python', 'node', 'go', 'dotnet', 'kafka', 'postgresql', 'kubernetes', 'nginx']) expect(domains).toContain(d);
    expect(kb.get('dotnet/httpclient-socket-connection-pool-exhausted')).toBeDefined();
  });

  it('compiles every record natively', () => {
    expect(matcher.info.patterns.rejected).toBe(0);
    expect(matcher.info.patterns.fallback).toBe(0);
  });

  it('every team record has positive and negative examples', () => {
    const team = kb.records.filter((x) => x.verification_tier === 'logsift_team');
    expect(team.length).toBeGreaterThan(30);
    for (const r of team) {
      expect(r.examples?.match.length, r.id).toBeGreaterThan(0);
      expect(r.examples?.no_match.length, r.id).toBeGreaterThan(0);
      expect(r.workarounds.length, r.id).toBeGreaterThan(0);
    }
  });

  it('matches each positive example and none of the negative ones', () => {
    const failures: string[] = [];
    kb.records.forEach((r, i) => {
      const pos = r.examples?.match ?? [];
      const neg = r.examples?.no_match ?? [];
      const res = matcher.scan([...pos, ...neg]);
      pos.forEach((line, k) => {
        if (!res[k]!.includes(i)) failures.push(`${r.id} should match: ${line}`);
      });
      neg.forEach((line, k) => {
        if (res[pos.length + k]!.includes(i)) failures.push(`${r.id} should not match: ${line}`);
      });
    });
    expect(failures).toEqual([]);
  });

  it('makes each positive example the primary of its record at the default match strength', () => {
    const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const failures: string[] = [];
    for (const r of kb.records) {
      for (const line of r.examples?.match ?? []) {
        const got = enricher.enrichBatch([line], [{}])[0]!;
        if (got.signatureId !== r.id) failures.push(`${r.id}: ${line} -> ${got.signatureId} (${JSON.stringify(got.event.match_strengths)})`);
      }
    }
    expect(failures).toEqual([]);
  });
});
