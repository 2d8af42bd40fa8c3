/**
 * A record's regex, read as text a person would write: the literal of each alternative, and which of
 * them are *forms* — a second way of writing the record's error, as specific as its signature
 * (enrich/strength.ts says how forms are scored). In kb/ beside words.ts because the KB snapshot keeps
 * each record's forms and regex words: parsing 2,500 regexes is most of the first ranking's set-up.
 *
 * - A form is an alternative that spells out a phrase of at least {@link MIN_PHRASE_WORDS} fixed words
 *   of three or more characters (`FATAL:\s+sorry, too many clients already`), or holds a compound
 *   identifier of three or more words (`CrashLoopBackOff`, `REBALANCE_IN_PROGRESS`). A short
 *   alternative such as `OOM`, `not found` or `UNAVAILABLE` is not evidence of anything.
 * - The regex's words are the fixed words of all its alternatives, forms or not: what the record's
 *   regex names, used to tell which technology a word belongs to (enrich/technology.ts).
 */
import { createHash } from 'node:crypto';

import { parsePyRegex, type Node } from '../matcher/pyregex.js';
import { VARIABLE, WORD, fixedWords } from './words.js';

/** Regex alternatives with fewer fixed words (of {@link MIN_PHRASE_WORD_CHARS}+ characters) are not signature forms. */
export const MIN_PHRASE_WORDS = 4;
/** `of`, `to`, or `ms` left of `\d+ms`, do not make a phrase. */
export const MIN_PHRASE_WORD_CHARS = 3;
/** A compound identifier of this many words (`CrashLoopBackOff`, `REBALANCE_IN_PROGRESS`) is a form by itself. */
export const MIN_IDENTIFIER_PARTS = 3;
/** Nested choices are expanded into separate literals up to this many per top-level alternative. */
const MAX_EXPANSIONS = 16;

const HUMP = /[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+/g;

/** Whether a word (original case) is a compound identifier: 3+ CamelCase humps or `_`-separated parts. */
export function isCompoundIdentifier(word: string): boolean {
  if (word.split('_').filter((p) => /\p{L}/u.test(p)).length >= MIN_IDENTIFIER_PARTS) return true;
  return /\p{Ll}/u.test(word) && /\p{Lu}/u.test(word) && (word.match(HUMP) ?? []).length >= MIN_IDENTIFIER_PARTS;
}

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

/** A regex's forms (each a list of fixed words) and all its alternatives' fixed words. */
export interface RegexWords {
  forms: string[][];
  words: string[];
}

export function regexWords(regex: string): RegexWords {
  const forms: string[][] = [];
  const all = new Set<string>();
  for (const alt of regexAlternativeLiterals(regex)) {
    const ws = fixedWords(alt);
    for (const w of ws) all.add(w);
    const phrase = ws.filter((w) => w.length >= MIN_PHRASE_WORD_CHARS).length >= MIN_PHRASE_WORDS;
    if (ws.length > 0 && (phrase || (alt.replace(VARIABLE, ' ').match(WORD) ?? []).some(isCompoundIdentifier))) forms.push(ws);
  }
  return { forms, words: [...all] };
}

/** Changes whenever what regexWords returns could (part of the snapshot key, like WORDS_VERSION). */
export const FORMS_VERSION = createHash('sha256')
  .update([MIN_PHRASE_WORDS, MIN_PHRASE_WORD_CHARS, MIN_IDENTIFIER_PARTS, MAX_EXPANSIONS, HUMP, isCompoundIdentifier, regexAlternativeLiterals, literals, regexWords, parsePyRegex].map(String).join('\n'))
  .digest('hex')
  .slice(0, 16);
