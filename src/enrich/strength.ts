/**
 * Match strength: how much of a record's signature a message actually shows, in [0, 1].
 *
 * A regex match says only that the message contains *some* text the record's regex accepts; with
 * broad regexes (`6.4`, `amp.*error`, `authentication.*fail`) that is most log lines. Strength asks the
 * question a person would: does the message say what the record's signature says?
 *
 *   strength = max over the record's forms F of  Σ w(t), t ∈ F ∩ tokens(message)  /  Σ w(t), t ∈ F
 *
 * - A *form* is a set of fixed words of the record: the words of its signature, and the words of each
 *   alternative of its regex that spells out a phrase of at least {@link MIN_PHRASE_WORDS} fixed
 *   words of three or more characters (`FATAL:\s+sorry, too many clients already` is a second way
 *   the record's error is written) or holds a compound identifier of three or more words
 *   (`CrashLoopBackOff`, `REBALANCE_IN_PROGRESS`: as specific as a phrase). A short alternative such
 *   as `OOM`, `not found` or `UNAVAILABLE` is not evidence of anything.
 * - Variable parts never count, for or against: numbers, durations and sizes, hex and UUIDs, IPv4
 *   addresses and ports, paths, URLs and quoted names are cut out of the forms before their words are
 *   taken. `MOVED 3999 127.0.0.1:7002` is the single word `moved`.
 * - Words are maximal runs of letters, digits and `_`, lower-cased: identifiers stay whole, so
 *   `NOT_FOUND`, `CrashLoopBackOff` and `MemoryError` are one word each and `MemoryError` is not found
 *   inside `OutOfMemoryError`.
 * - w(t) is the word's inverse document frequency over the knowledge base's own signatures,
 *   `ln((N + 1) / (df + 1)) + 1`: a word most records use (`error`, `failed`, `the`) weighs little, a
 *   word few records use (`crashloopbackoff`, `sorry`, `ECONNREFUSED`) weighs much. It needs no corpus
 *   but the KB, so it means the same on any user's logs.
 *
 * Pure: depends on the KB only; no clock, no I/O. The word weights are counted on the first strength
 * asked for (a run that matches nothing never needs them); forms are built per record on first use.
 */
import type { KnowledgeBase } from '../kb/index.js';
import { VARIABLE, WORD, fixedWords, words } from '../kb/words.js';
import { parsePyRegex, type Node } from '../matcher/pyregex.js';

export { fixedWords, words };

/** Regex alternatives with fewer fixed words (of {@link MIN_PHRASE_WORD_CHARS}+ characters) are not signature forms. */
export const MIN_PHRASE_WORDS = 4;
/** `of`, `to`, or `ms` left of `\d+ms`, do not make a phrase. */
export const MIN_PHRASE_WORD_CHARS = 3;
/** A compound identifier of this many words (`CrashLoopBackOff`, `REBALANCE_IN_PROGRESS`) is a form by itself. */
export const MIN_IDENTIFIER_PARTS = 3;

const HUMP = /[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+/g;

/** Whether a word (original case) is a compound identifier: 3+ CamelCase humps or `_`-separated parts. */
export function isCompoundIdentifier(word: string): boolean {
  if (word.split('_').filter((p) => /\p{L}/u.test(p)).length >= MIN_IDENTIFIER_PARTS) return true;
  return /\p{Ll}/u.test(word) && /\p{Lu}/u.test(word) && (word.match(HUMP) ?? []).length >= MIN_IDENTIFIER_PARTS;
}

/** Only this much of a message is tokenized for strength (a stack trace's head carries the error). */
export const MAX_STRENGTH_TEXT_CHARS = 16_384;

/** The message side: its words as a set, computed once per message and shared by all its matches. */
export function messageWords(text: string): ReadonlySet<string> {
  return new Set(words(text.length > MAX_STRENGTH_TEXT_CHARS ? text.slice(0, MAX_STRENGTH_TEXT_CHARS) : text));
}

/** Nested choices are expanded into separate literals up to this many per top-level alternative. */
const MAX_EXPANSIONS = 16;

/**
 * The literal text of each alternative of a regex, nested choices expanded (`NOT_LEADER_(?:OR_FOLLOWER|
 * FOR_PARTITION)` gives both names; past 16 expansions a choice is a word break). Anything that is not
 * a fixed character — `.`, classes, `\d`, optional or repeated parts, look-arounds — is a word break.
 */
export function regexAlternativeLiterals(regex: string): string[] {
  let ast: Node;
  try {
    ast = parsePyRegex(regex);
  } catch {
    return [];
  }
  return literals(ast);
}

function literals(node: Node): string[] {
  switch (node.t) {
    case 'char':
      return [String.fromCodePoint(node.cp)];
    case 'seq': {
      let acc = [''];
      for (const item of node.items) {
        const next = literals(item);
        acc = acc.length * next.length > MAX_EXPANSIONS ? acc.map((a) => `${a} `) : acc.flatMap((a) => next.map((n) => a + n));
      }
      return acc;
    }
    case 'alt': {
      const all = node.alts.flatMap(literals);
      return all.length > MAX_EXPANSIONS ? [' '] : all;
    }
    case 'group':
    case 'atomic':
      return literals(node.body);
    case 'quant':
      // `x+` still shows one x; `x?`, `x*` may show nothing: a break either way after it.
      return node.min >= 1 ? literals(node.body).map((l) => `${l} `) : [' '];
    default:
      return [' '];
  }
}

interface Form {
  words: string[];
  weights: Float64Array;
  total: number;
}

/** What ranking needs: the strength of each matched record on one message. */
export interface StrengthScorer {
  /** Prepares one message (its words are taken once) and returns its per-record strength. */
  scorer(text: string): (index: number) => number;
}

export class StrengthIndex implements StrengthScorer {
  private documentFrequency: Map<string, number> | null = null;
  private readonly n: number;
  private readonly forms: (Form[] | undefined)[];

  constructor(private readonly kb: KnowledgeBase) {
    this.n = kb.size;
    this.forms = new Array<Form[] | undefined>(this.n);
  }

  /** How many of the KB's signatures have each fixed word. */
  private get df(): Map<string, number> {
    if (this.documentFrequency === null) {
      const df = new Map<string, number>();
      for (let i = 0; i < this.n; i++) for (const w of this.kb.signatureWords(i)) df.set(w, (df.get(w) ?? 0) + 1);
      this.documentFrequency = df;
    }
    return this.documentFrequency;
  }

  /** The inverse document frequency of a word over the KB's signatures. */
  weight(word: string): number {
    return Math.log((this.n + 1) / ((this.df.get(word) ?? 0) + 1)) + 1;
  }

  private form(ws: readonly string[]): Form {
    const weights = Float64Array.from(ws, (w) => this.weight(w));
    let total = 0;
    for (const w of weights) total += w;
    return { words: [...ws], weights, total };
  }

  /** The record's forms: its signature's fixed words, then each regex alternative phrase of ≥ 4 words. */
  formsOf(index: number): readonly Form[] {
    let forms = this.forms[index];
    if (!forms) {
      const record = this.kb.heads[index]!;
      forms = [];
      const sig = this.kb.signatureWords(index);
      if (sig.length > 0) forms.push(this.form(sig));
      for (const alt of regexAlternativeLiterals(record.regex)) {
        const ws = fixedWords(alt);
        const phrase = ws.filter((w) => w.length >= MIN_PHRASE_WORD_CHARS).length >= MIN_PHRASE_WORDS;
        if (ws.length > 0 && (phrase || (alt.replace(VARIABLE, ' ').match(WORD) ?? []).some(isCompoundIdentifier))) forms.push(this.form(ws));
      }
      this.forms[index] = forms;
    }
    return forms;
  }

  scorer(text: string): (index: number) => number {
    const message = messageWords(text);
    return (index) => this.strength(index, message);
  }

  /** Strength of record `index` on a message with these words, rounded to 3 decimals. */
  strength(index: number, message: ReadonlySet<string>): number {
    let best = 0;
    for (const f of this.formsOf(index)) {
      let present = 0;
      for (let i = 0; i < f.words.length; i++) if (message.has(f.words[i]!)) present += f.weights[i]!;
      const s = present / f.total;
      if (s > best) best = s;
    }
    return Math.round(best * 1000) / 1000;
  }
}
