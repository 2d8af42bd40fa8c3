import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher, diffBatch, diffEnriched, summarize } from '../../../src/enrich/index.js';
import type { KnowledgeBase } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { kbOf, record } from '../../helpers/kb.js';

const view = (signatureId: string | null, matchIds: string[]) => ({ signatureId, matchIds });

async function enricher(kb: KnowledgeBase): Promise<Enricher> {
  return new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: 0 });
}

describe('diffEnriched', () => {
  it('compares primaries and match sets by record id', () => {
    expect(diffEnriched(view('a', ['a', 'b']), view('a', ['a', 'b']))).toEqual({ kind: 'same', from: 'a', to: 'a', gained: [], lost: [] });
    expect(diffEnriched(view(null, []), view(null, []))).toEqual({ kind: 'same', from: null, to: null, gained: [], lost: [] });
    expect(diffEnriched(view('a', ['a', 'b']), view('a', ['a', 'c', 'd']))).toEqual({ kind: 'matches_changed', from: 'a', to: 'a', gained: ['c', 'd'], lost: ['b'] });
    expect(diffEnriched(view('a', ['a', 'b']), view('b', ['b', 'a']))).toEqual({ kind: 'primary_changed', from: 'a', to: 'b', gained: [], lost: [] });
    expect(diffEnriched(view(null, ['w']), view('x', ['x']))).toEqual({ kind: 'primary_changed', from: null, to: 'x', gained: ['x'], lost: ['w'] });
  });

  it('summarizes counts', () => {
    const diffs = [diffEnriched(view('a', ['a']), view('a', ['a'])), diffEnriched(view('a', ['a']), view('b', ['b'])), diffEnriched(view('a', ['a']), view('a', ['a', 'c', 'd']))];
    expect(summarize(diffs)).toEqual({ messages: 3, same: 1, primaryChanged: 1, matchesChanged: 1, gained: 3, lost: 1 });
  });
});

describe('diffBatch', () => {
  it('diffs the same lines enriched by a live and a candidate KB', async () => {
    const live = await enricher(kbOf(record('db/too-many', 'too many clients'), record('net/refused', 'connection refused')));
    const candidate = await enricher(kbOf(record('db/too-many', 'too many clients'), record('net/refused-any', 'refused'), record('net/timeout', 'timed out'), record('db/clients', 'clients')));
    const lines = ['FATAL: too many clients', 'dial: connection refused', 'all good', 'read: timed out'];
    const diffs = diffBatch(live.enrichBatch(lines, []), candidate.enrichBatch(lines, []));
    expect(diffs).toEqual([
      { kind: 'matches_changed', from: 'db/too-many', to: 'db/too-many', gained: ['db/clients'], lost: [] },
      { kind: 'primary_changed', from: 'net/refused', to: 'net/refused-any', gained: ['net/refused-any'], lost: ['net/refused'] },
      { kind: 'same', from: null, to: null, gained: [], lost: [] },
      { kind: 'primary_changed', from: null, to: 'net/timeout', gained: ['net/timeout'], lost: [] },
    ]);
    expect(() => diffBatch(live.enrichBatch(lines, []), [])).toThrow(RangeError);
  });
});
