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
import { MIN_PHRASE_WORDS, isCompoundIdentifier, regexAlternativeLiterals } from '../kb/forms.js';
import type { KnowledgeBase } from '../kb/index.js';
import { WORD, fixedWords, words } from '../kb/words.js';

export { MIN_PHRASE_WORDS, fixedWords, isCompoundIdentifier, regexAlternativeLiterals, words };

/** Only this much of a message is tokenized for strength (a stack trace's head carries the error). */
export const MAX_STRENGTH_TEXT_CHARS = 16_384;

/** The message side: its words as a set (the reference `MessageWords` agrees with). */
export function messageWords(text: string): ReadonlySet<string> {
  return new Set(words(text.length > MAX_STRENGTH_TEXT_CHARS ? text.slice(0, MAX_STRENGTH_TEXT_CHARS) : text));
}

const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

/** Whether the code point at `i` of `s` (or the one ending there, `before`) is a word character (WORD). */
function isWordChar(s: string, i: number, before: boolean): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);
  // A surrogate pair is one code point: read it whole from its first half.
  const start = before && c >= 0xdc00 && c <= 0xdfff && i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff ? i - 1 : i;
  return WORD_CHAR.test(String.fromCodePoint(s.codePointAt(start)!));
}

/**
 * A message's words, looked up one at a time: `has(w)` is `messageWords(text).has(w)` without
 * splitting the whole message into a set first. A message is asked about the few words of its matched
 * records' forms, so finding each in the lower-cased text (as a whole word: no word character either
 * side) costs less than tokenizing every word of it; `words()` gives the set when all are needed.
 */
export class MessageWords {
  private readonly lower: string;
  private all: ReadonlySet<string> | null = null;

  constructor(text: string) {
    this.lower = (text.length > MAX_STRENGTH_TEXT_CHARS ? text.slice(0, MAX_STRENGTH_TEXT_CHARS) : text).toLowerCase();
  }

  /** Whether `word` (a word as `words` gives them) is a word of the message. */
  has(word: string): boolean {
    if (this.all !== null) return this.all.has(word);
    const s = this.lower;
    for (let at = s.indexOf(word); at >= 0; at = s.indexOf(word, at + 1)) {
      const end = at + word.length;
      if ((at === 0 || !isWordChar(s, at - 1, true)) && (end === s.length || !isWordChar(s, end, false))) return true;
    }
    return false;
  }

  /** All its words. */
  words(): ReadonlySet<string> {
    return (this.all ??= new Set(this.lower.match(WORD) ?? []));
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
      forms = [];
      const sig = this.kb.signatureWords(index);
      if (sig.length > 0) forms.push(this.form(sig));
      for (const ws of this.kb.regexWords(index).forms) forms.push(this.form(ws));
      this.forms[index] = forms;
    }
    return forms;
  }

  /** A message's words, as `strength` and `evidence` take them. */
  messageWords(text: string): MessageWords {
    return new MessageWords(text);
  }

  scorer(text: string): (index: number) => number {
    const message = new MessageWords(text);
    return (index) => this.strength(index, message);
  }

  /** Strength of record `index` on a message with these words, rounded to 3 decimals. */
  strength(index: number, message: MessageWords): number {
    let best = 0;
    for (const f of this.formsOf(index)) {
      const s = this.shown(f, message);
      if (s > best) best = s;
    }
    return Math.round(best * 1000) / 1000;
  }

  /** The share of a form's weight that the message shows. */
  private shown(f: Form, message: MessageWords): number {
    let present = 0;
    for (let i = 0; i < f.words.length; i++) if (message.has(f.words[i]!)) present += f.weights[i]!;
    return present / f.total;
  }

  /** The words of the record's strongest form that the message shows: what its strength rests on. */
  evidence(index: number, message: MessageWords): string[] {
    let share = 0;
    let form: Form | null = null;
    for (const f of this.formsOf(index)) {
      const s = this.shown(f, message);
      if (s > share) {
        share = s;
        form = f;
      }
    }
    return form === null ? [] : form.words.filter((w) => message.has(w));
  }
}
