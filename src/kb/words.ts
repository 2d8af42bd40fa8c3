/**
 * The fixed words of a signature (strength.ts says what they are for): lower-cased runs of letters,
 * digits and `_`, with the variable parts (numbers, addresses, paths, URLs, quoted names) cut out.
 * In kb/ because the KB snapshot keeps every signature's fixed words (snapshot.ts): counting them
 * over 2,500 signatures is most of a cached start's ranking set-up.
 */
import { createHash } from 'node:crypto';

export const WORD = /[\p{L}\p{N}_]+/gu;

/**
 * Variable parts of a signature: cut out before its words are taken. Order matters: URLs and quoted
 * names before paths, addresses before plain numbers.
 */
export const VARIABLE = new RegExp(
  [
    String.raw`[a-z][a-z0-9+.-]*://\S+`, // URL
    String.raw`'[^'\n]{0,80}'|"[^"\n]{0,80}"|\x60[^\x60\n]{0,80}\x60`, // quoted name
    String.raw`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b`, // IPv4[:port]
    String.raw`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`, // UUID
    String.raw`\b0x[0-9a-f]+\b`, // hex literal
    String.raw`(?:[a-z]:)?(?:[\\/][\w.@-]+){2,}[\\/]?`, // path
    String.raw`\b(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s|d)){2,}\b`, // compound duration: 5m0s, 1h30m
    String.raw`\b\d+(?:\.\d+)?(?:ms|us|ns|s|m|h|d|kb|mb|gb|kib|mib|gib|b|%)?\b`, // number, duration, size
  ].join('|'),
  'giu',
);

/** Lower-cased words of a text. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The fixed words of a signature-like text: variable parts cut out, pure numbers dropped. */
export function fixedWords(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text.replace(VARIABLE, ' '))) if (!/^\p{N}+$/u.test(w)) out.push(w);
  return [...new Set(out)];
}

/**
 * Changes whenever the definition of the fixed words does (these functions' and expressions' text):
 * part of the snapshot key, so a snapshot never serves words an older definition took.
 */
export const WORDS_VERSION = createHash('sha256').update(`${WORD}\n${VARIABLE}\n${words.toString()}\n${fixedWords.toString()}`).digest('hex').slice(0, 16);
