import { describe, expect, it } from 'vitest';

import { ErrorCodes } from '../../../src/errors.js';
import { ExactBudgetError, ExactEngine, type PlannedPattern } from '../../../src/matcher/index.js';

const pattern = (index: number, js: string): PlannedPattern => ({ index, id: `r${index}`, cls: 'prefilter', js, jsFlags: 'u' });
const plan = [pattern(0, '(?=(a{1,}){1,}b)a'), pattern(1, 'code=\\d+'), pattern(2, 'plain literal')];
const EVIL = `${'a'.repeat(32)}cab`;

describe('ExactEngine', () => {
  it('runs quantifier-free RegExps inline and the rest in the worker', () => {
    const e = new ExactEngine(plan, 50);
    try {
      expect([0, 1, 2].map((i) => e.runsInline(i))).toEqual([false, false, true]);
      expect(e.test([{ text: 'code=7 plain literal', patterns: [1, 2] }, { text: 'nothing', patterns: [1, 2] }])).toEqual([
        { matched: [2, 1], undecided: null },
        { matched: [], undecided: null },
      ]);
      expect(e.span(1, 'exit code=137')).toEqual([5, 13]);
      expect(e.span(2, 'a plain literal')).toEqual([2, 15]);
      expect(e.restarts).toBe(0);
      expect(e.workers).toBe(1);
    } finally {
      e.close();
    }
  });

  it('leaves a backtracking message undecided, replaces the worker, and goes on with the next messages', () => {
    const e = new ExactEngine(plan, 50);
    try {
      const out = e.test([
        { text: 'code=1', patterns: [1] },
        { text: EVIL, patterns: [0, 1] },
        { text: 'code=2', patterns: [1] },
        { text: EVIL, patterns: [0] },
        { text: 'ab', patterns: [0] },
      ]);
      expect(out).toEqual([
        { matched: [1], undecided: null },
        { matched: [], undecided: [0, 1] },
        { matched: [1], undecided: null },
        { matched: [], undecided: [0] },
        { matched: [0], undecided: null },
      ]);
      expect(e.restarts).toBe(2);
      // No stand-by until the first timeout (no prewarm); one from then on.
      expect(e.workers).toBe(2);
      expect.assertions(5);
      try {
        e.span(0, EVIL);
      } catch (err) {
        expect(err).toBeInstanceOf(ExactBudgetError);
        expect((err as ExactBudgetError).code).toBe(ErrorCodes.CONFIRM_TIMEOUT);
      }
    } finally {
      e.close();
    }
  });

  it('starts new workers after close, and rejects a non-positive budget', () => {
    const e = new ExactEngine(plan, 50);
    expect(e.test([{ text: 'code=3', patterns: [1] }])[0]!.matched).toEqual([1]);
    e.close();
    expect(e.test([{ text: 'code=4', patterns: [1] }])[0]!.matched).toEqual([1]);
    e.close();
    expect(() => new ExactEngine(plan, 0)).toThrow(RangeError);
  });
});
