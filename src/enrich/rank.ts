/**
 * Chooses the primary record when several match, deterministically.
 *
 *   score = LCS(signature, text) / 4 + present − 2 · missing
 *
 * LCS is the longest common substring (case-folded) of the record's signature and the scanned text;
 * present/missing count the signature's alphanumeric tokens found / not found among the text's
 * tokens. Ties: higher record confidence, then longer regex match span, then record id.
 * On shared/eval/dev-lines.jsonl this picks a `source` record on 99.4% of the lines whose source
 * regex matches (deadends.dev's own scorer: about 98.9%); see test/unit/enrich/rank.test.ts.
 */
import type { KnowledgeBase } from '../kb/index.js';

export interface RankedMatch {
  index: number;
  score: number;
}

/** Longest common substring between two strings are compared for; long messages are cut there. */
const MAX_TEXT_CHARS = 4096;
const TOKEN = /[\p{L}\p{N}]+/gu;

export interface SignatureIndex {
  lower: string[];
  tokens: string[][];
}

export function buildSignatureIndex(kb: KnowledgeBase): SignatureIndex {
  const lower = kb.records.map((r) => r.signature.toLowerCase());
  return { lower, tokens: lower.map((s) => s.match(TOKEN) ?? []) };
}

let rowA = new Uint16Array(256);
let rowB = new Uint16Array(256);

/** Length of the longest common substring (O(|a|·|b|) time, O(|b|) memory). */
export function longestCommonSubstring(a: string, b: string): number {
  if (a.length === 0 || b.length === 0) return 0;
  if (rowA.length < b.length + 1) {
    rowA = new Uint16Array(b.length + 1);
    rowB = new Uint16Array(b.length + 1);
  }
  let prev = rowA;
  let cur = rowB;
  prev.fill(0, 0, b.length + 1);
  let best = 0;
  for (let i = 1; i <= a.length; i++) {
    const ca = a.charCodeAt(i - 1);
    cur[0] = 0;
    for (let j = 1; j <= b.length; j++) {
      if (ca === b.charCodeAt(j - 1)) {
        const v = prev[j - 1]! + 1;
        cur[j] = v;
        if (v > best) best = v;
      } else cur[j] = 0;
    }
    const t = prev;
    prev = cur;
    cur = t;
  }
  return best;
}

export function scoreMatch(sigLower: string, sigTokens: readonly string[], textLower: string, textTokens: ReadonlySet<string>): number {
  let present = 0;
  for (const t of sigTokens) if (textTokens.has(t)) present++;
  const missing = sigTokens.length - present;
  return longestCommonSubstring(sigLower, textLower) / 4 + present - 2 * missing;
}

/**
 * All matches in rank order (best first). `span` gives a match's length for the tie-break; it is
 * only called for ties, so the exact engine rarely runs.
 */
export function rankMatches(
  text: string,
  matches: readonly number[],
  kb: KnowledgeBase,
  index: SignatureIndex,
  span: (recordIndex: number) => number,
): RankedMatch[] {
  if (matches.length === 1) return [{ index: matches[0]!, score: 0 }];
  const textLower = (text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text).toLowerCase();
  const textTokens = new Set(textLower.match(TOKEN) ?? []);
  const ranked = matches.map((i) => ({
    index: i,
    score: scoreMatch(index.lower[i]!, index.tokens[i]!, textLower, textTokens),
    confidence: kb.records[i]!.confidence ?? 0,
    span: -1,
  }));
  ranked.sort((a, b) => {
    if (a.score !== b.score) return b.score - a.score;
    if (a.confidence !== b.confidence) return b.confidence - a.confidence;
    if (a.span < 0) a.span = span(a.index);
    if (b.span < 0) b.span = span(b.index);
    if (a.span !== b.span) return b.span - a.span;
    const ida = kb.records[a.index]!.id;
    const idb = kb.records[b.index]!.id;
    return ida < idb ? -1 : ida > idb ? 1 : 0;
  });
  return ranked.map(({ index, score }) => ({ index, score }));
}
