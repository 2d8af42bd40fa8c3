/**
 * Orders a message's matches, best first, deterministically:
 *
 * 1. higher match strength (strength.ts: how much of the record's signature the message shows);
 * 2. higher score = LCS(signature, text) / 4 + present − 2 · missing, where LCS is the longest common
 *    substring (case-folded) of the record's signature and the scanned text and present/missing count
 *    the signature's alphanumeric tokens found / not found among the text's tokens;
 * 3. higher record confidence, then the longer regex match span, then the record id.
 *
 * The primary is the first match if it is strong enough (`primaryOf`). On shared/eval/dev-lines.jsonl
 * this picks a `source` record on 99.5% of the lines whose source regex matches; see
 * test/unit/matcher/agreement.test.ts.
 */
import type { KnowledgeBase } from '../kb/index.js';
import { sortSmall } from '../matcher/small-sort.js';
import { StrengthIndex, type MessageWords } from './strength.js';
import { TechnologyIndex } from './technology.js';

export interface RankedMatch {
  index: number;
  /** Match strength in [0, 1] (3 decimals). */
  strength: number;
  /** The tie-break score among equal strengths (module comment); 0 where it was not needed unless `allScores`. */
  score: number;
  /**
   * Set on the first match only, when it is ambiguous across technologies (technology.ts): it shows
   * part of a record that names a technology the message does not, in words another technology's
   * record has too. It is then not the primary, whatever its strength.
   */
  ambiguous?: true;
}

/** Longest common substring between two strings are compared for; long messages are cut there. */
const MAX_TEXT_CHARS = 4096;
const TOKEN = /[\p{L}\p{N}]+/gu;

/**
 * Suffix automaton of one signature: the longest common substring with any text is then found in
 * O(|text|) instead of the O(|signature|·|text|) dynamic programme (60× fewer steps on log lines).
 * Transitions are a flat table over the signature's own alphabet (a text character outside it
 * resets the walk at once), so each step is two array reads, not a Map lookup.
 */
export class SuffixAutomaton {
  /** Character → column, -1 when the signature does not contain it. */
  private readonly ascii = new Int16Array(128).fill(-1);
  private readonly other = new Map<number, number>();
  private readonly width: number;
  private readonly next: Int32Array;
  private readonly link: Int32Array;
  private readonly len: Int32Array;

  constructor(text: string) {
    let width = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.column(c) < 0) {
        if (c < 128) this.ascii[c] = width++;
        else this.other.set(c, width++);
      }
    }
    this.width = Math.max(1, width);
    const capacity = 2 * text.length + 1;
    const w = this.width;
    const next = (this.next = new Int32Array(capacity * w).fill(-1));
    const link = (this.link = new Int32Array(capacity));
    const len = (this.len = new Int32Array(capacity));
    link[0] = -1;
    let size = 1;
    let last = 0;
    for (let i = 0; i < text.length; i++) {
      const k = this.column(text.charCodeAt(i));
      const cur = size++;
      len[cur] = len[last]! + 1;
      let p = last;
      while (p !== -1 && next[p * w + k]! < 0) {
        next[p * w + k] = cur;
        p = link[p]!;
      }
      if (p === -1) link[cur] = 0;
      else {
        const q = next[p * w + k]!;
        if (len[p]! + 1 === len[q]) link[cur] = q;
        else {
          const clone = size++;
          len[clone] = len[p]! + 1;
          link[clone] = link[q]!;
          next.copyWithin(clone * w, q * w, q * w + w);
          while (p !== -1 && next[p * w + k] === q) {
            next[p * w + k] = clone;
            p = link[p]!;
          }
          link[q] = clone;
          link[cur] = clone;
        }
      }
      last = cur;
    }
  }

  private column(c: number): number {
    return c < 128 ? this.ascii[c]! : (this.other.get(c) ?? -1);
  }

  /** Length of the longest substring of `text` that is also a substring of the automaton's string. */
  longestCommonSubstring(text: string): number {
    const { next, link, len, width: w } = this;
    let state = 0;
    let length = 0;
    let best = 0;
    for (let i = 0; i < text.length; i++) {
      const k = this.column(text.charCodeAt(i));
      if (k < 0) {
        state = 0;
        length = 0;
        continue;
      }
      while (state !== 0 && next[state * w + k]! < 0) {
        state = link[state]!;
        length = len[state]!;
      }
      const to = next[state * w + k]!;
      if (to >= 0) {
        state = to;
        length++;
      } else {
        state = 0;
        length = 0;
      }
      if (length > best) best = length;
    }
    return best;
  }
}

/** Per record, built on first use: most records never match anything in a given stream. */
export interface SignatureIndex {
  strength: StrengthIndex;
  technology: TechnologyIndex;
  kb: KnowledgeBase;
  /** The signature, lower-cased. */
  lower: (string | undefined)[];
  /** Its tokens (TOKEN). */
  tokens: (string[] | undefined)[];
  automata: (SuffixAutomaton | undefined)[];
}

export function buildSignatureIndex(kb: KnowledgeBase): SignatureIndex {
  const n = kb.size;
  return { strength: new StrengthIndex(kb), technology: new TechnologyIndex(kb), kb, lower: new Array<string | undefined>(n), tokens: new Array<string[] | undefined>(n), automata: new Array<SuffixAutomaton | undefined>(n) };
}

function lowerOf(index: SignatureIndex, i: number): string {
  return (index.lower[i] ??= index.kb.heads[i]!.signature.toLowerCase());
}

/** Reference O(|a|·|b|) longest common substring, kept to check the automaton against. */
export function longestCommonSubstring(a: string, b: string): number {
  let best = 0;
  let prev = new Uint16Array(b.length + 1);
  let cur = new Uint16Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const v = ca === b.charCodeAt(j - 1) ? prev[j - 1]! + 1 : 0;
      cur[j] = v;
      if (v > best) best = v;
    }
    [prev, cur] = [cur, prev];
  }
  return best;
}

function automatonFor(index: SignatureIndex, i: number): SuffixAutomaton {
  let a = index.automata[i];
  if (!a) {
    a = new SuffixAutomaton(lowerOf(index, i));
    index.automata[i] = a;
  }
  return a;
}

export function scoreMatch(index: SignatureIndex, record: number, textLower: string, textTokens: ReadonlySet<string>): number {
  const sigTokens = (index.tokens[record] ??= lowerOf(index, record).match(TOKEN) ?? []);
  let present = 0;
  for (const t of sigTokens) if (textTokens.has(t)) present++;
  const missing = sigTokens.length - present;
  return automatonFor(index, record).longestCommonSubstring(textLower) / 4 + present - 2 * missing;
}

/** How `rankMatches` treats weak and ambiguous matches. */
export interface RankOptions {
  /**
   * match.minStrength: a first match at or above it is checked for ambiguity across technologies
   * (technology.ts), which only matters to a primary. Default 0: pure regex semantics, no check.
   */
  minStrength?: number;
  /**
   * When every match is below minStrength, keep them in strength order without the scores and the
   * exact-engine spans (no primary either way). Default false: the full ranking.
   */
  skipWeakRanking?: boolean;
  /** The whole message when `text` is only part of it (a JSON log's message fields), for the ambiguity check. */
  whole?: string;
  /**
   * Compute every match's score (the lookup API shows them). Default false: only the matches whose
   * strength ties another's need one to be ordered, and the others report 0 — the same order, without
   * a longest-common-substring walk of the text per match.
   */
  allScores?: boolean;
}

/**
 * All matches in rank order (best first), each with its strength. `spans` gives the matches' lengths
 * for the last tie-break; it is called once per message, only for the matches tied on everything
 * before it, so the exact engine rarely runs, and then in one round trip.
 */
export function rankMatches(
  text: string,
  matches: readonly number[],
  kb: KnowledgeBase,
  index: SignatureIndex,
  spans: (recordIndexes: readonly number[]) => readonly number[],
  options: RankOptions = {},
): RankedMatch[] {
  if (matches.length === 0) return [];
  const message = index.strength.messageWords(text);
  const strengthOf = (i: number): number => index.strength.strength(i, message);
  if (matches.length === 1) return markAmbiguity([{ index: matches[0]!, strength: strengthOf(matches[0]!), score: 0 }], index, message, options);
  const strengths = matches.map(strengthOf);
  const minStrength = options.minStrength ?? 0;
  if (options.skipWeakRanking === true && strengths.every((s) => s < minStrength)) {
    // No primary either way: strength order, then id, without the scores and the exact-engine spans.
    return sortSmall(
      matches.map((i, k) => ({ index: i, strength: strengths[k]!, score: 0 })),
      (a, b) => b.strength - a.strength || (kb.heads[a.index]!.id < kb.heads[b.index]!.id ? -1 : 1),
    );
  }
  let textLower: string | null = null;
  let textTokens: Set<string> | null = null;
  const scoreOf = (i: number): number => {
    textLower ??= (text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text).toLowerCase();
    textTokens ??= new Set(textLower.match(TOKEN) ?? []);
    return scoreMatch(index, i, textLower, textTokens);
  };
  const ranked = matches.map((i, k) => ({
    index: i,
    strength: strengths[k]!,
    score: options.allScores === true ? scoreOf(i) : Number.NaN, // NaN: not computed yet
    confidence: kb.heads[i]!.confidence ?? 0,
    span: -1,
  }));
  // Strength, score, confidence; then, within each run tied on all three, span and id. The same order
  // as one comparison on all five keys, with the spans of a message asked for together.
  sortSmall(ranked, (a, b) => {
    if (a.strength !== b.strength) return b.strength - a.strength;
    if (Number.isNaN(a.score)) a.score = scoreOf(a.index);
    if (Number.isNaN(b.score)) b.score = scoreOf(b.index);
    if (a.score !== b.score) return b.score - a.score;
    return b.confidence - a.confidence;
  });
  const tied = (a: (typeof ranked)[number], b: (typeof ranked)[number]): boolean => a.strength === b.strength && a.score === b.score && a.confidence === b.confidence;
  const runs: [number, number][] = [];
  for (let i = 0; i < ranked.length; ) {
    let j = i + 1;
    while (j < ranked.length && tied(ranked[i]!, ranked[j]!)) j++;
    if (j - i > 1) runs.push([i, j]);
    i = j;
  }
  if (runs.length > 0) {
    const members = runs.flatMap(([i, j]) => ranked.slice(i, j));
    const lengths = spans(members.map((m) => m.index));
    members.forEach((m, k) => (m.span = lengths[k]!));
    for (const [i, j] of runs) {
      const run = sortSmall(ranked.slice(i, j), (a, b) => {
        if (a.span !== b.span) return b.span - a.span;
        const ida = kb.heads[a.index]!.id;
        const idb = kb.heads[b.index]!.id;
        return ida < idb ? -1 : ida > idb ? 1 : 0;
      });
      ranked.splice(i, j - i, ...run);
    }
  }
  return markAmbiguity(
    ranked.map(({ index, strength, score }) => ({ index, strength, score: Number.isNaN(score) ? 0 : score })),
    index,
    message,
    options,
  );
}

/** Marks the first match when it is ambiguous across technologies (technology.ts). */
function markAmbiguity(ranked: RankedMatch[], index: SignatureIndex, message: MessageWords, options: RankOptions): RankedMatch[] {
  const first = ranked[0]!;
  const minStrength = options.minStrength ?? 0;
  if (minStrength <= 0 || first.strength < minStrength || first.strength >= 1) return ranked;
  const { whole } = options;
  const wholeWords = whole === undefined ? undefined : (): MessageWords => index.strength.messageWords(whole);
  if (index.technology.ambiguous(first.index, first.strength, index.strength.evidence(first.index, message), message, wholeWords)) first.ambiguous = true;
  return ranked;
}

/**
 * The primary match: the best-ranked one if its strength reaches `minStrength` and it is not ambiguous
 * across technologies, else none. `minStrength` 0 gives pure regex semantics: any match can be the
 * primary, ambiguous or not.
 */
export function primaryOf(ranked: readonly RankedMatch[], minStrength: number): RankedMatch | null {
  const first = ranked[0];
  if (first === undefined || first.strength < minStrength) return null;
  return minStrength > 0 && first.ambiguous === true ? null : first;
}
