import { describe, expect, it } from 'vitest';

import { SMALL_SORT_MAX, sortNumbers, sortSmall } from '../../../src/matcher/small-sort.js';

/** A small deterministic generator (the same arrays on every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('sortSmall and sortNumbers', () => {
  it('order exactly as the stable Array.prototype.sort does, ties kept in input order, below and above the cut-over', () => {
    const rand = lcg(7);
    for (let n = 0; n <= SMALL_SORT_MAX * 2 + 1; n++) {
      for (let round = 0; round < 20; round++) {
        // Few distinct keys, so most arrays have ties; `at` tells tied items apart.
        const items = Array.from({ length: n }, (_, at) => ({ key: Math.floor(rand() * 4), at }));
        const byKey = (a: { key: number }, b: { key: number }): number => a.key - b.key;
        const expected = [...items].sort(byKey);
        const copy = [...items];
        expect(sortSmall(copy, byKey)).toBe(copy);
        expect(copy).toEqual(expected);

        const numbers = items.map(() => Math.floor(rand() * 3000));
        const sorted = [...numbers].sort((a, b) => a - b);
        expect(sortNumbers(numbers)).toEqual(sorted);
      }
    }
  });
});
