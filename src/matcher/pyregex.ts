/**
 * Python `re` syntax → (a) a Hyperscan/PCRE expression and (b) a JavaScript RegExp with Python's
 * semantics, plus the features that decide a record's compile class.
 *
 * Why a parser and not string replaces: Python and the two target engines disagree on `.`, `$`,
 * `\w`/`\d`/`\s`/`\b` (Unicode in Python), `{,n}`, `(?P<…>)`, `\Z`, escapes and class syntax. Each
 * difference is handled on a node, so the emitters stay small and exact.
 */

export class PyRegexSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = 'PyRegexSyntaxError';
    this.position = position;
  }
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
  a: boolean;
}

type EscClass = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

type ClassItem = { t: 'range'; lo: number; hi: number } | { t: 'esc'; kind: EscClass };

export type Node =
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'char'; cp: number; ci: boolean }
  | { t: 'dot'; dotall: boolean }
  | { t: 'class'; negated: boolean; items: ClassItem[]; ci: boolean }
  | { t: 'esc'; kind: EscClass; ascii: boolean }
  | { t: 'anchor'; kind: 'start' | 'end'; multiline: boolean }
  | { t: 'assert'; kind: 'A' | 'Z' | 'b' | 'B'; ascii: boolean }
  | { t: 'group'; kind: 'capture' | 'noncapture'; index?: number; name?: string; body: Node }
  | { t: 'look'; ahead: boolean; negative: boolean; body: Node }
  | { t: 'atomic'; body: Node }
  | { t: 'backref'; index: number }
  | { t: 'cond'; index: number; yes: Node; no: Node }
  | { t: 'quant'; body: Node; min: number; max: number; lazy: boolean; possessive: boolean };

export interface PyRegexFeatures {
  /** Back-references, look-arounds, atomic groups, possessive quantifiers or conditionals. */
  needsPrefilter: boolean;
  /** A `.` that must not match `\n` (Python default): exact only on single-line text when compiled DOTALL. */
  newlineSensitive: boolean;
  /**
   * A `^` or `$` without MULTILINE, or `\A`/`\Z`: anchored to the whole text, not to a line. Without
   * such an anchor (and without look-arounds), a match inside one line of a multi-line text is a
   * match of the text: the line's edges are `\n`, which `\b`, `\B` and MULTILINE anchors read as
   * they read the text's own ends.
   */
  anchored: boolean;
  /**
   * Some part can match `\n` (`\s`, `\W`, `\D`, a negated class without `\n`, a DOTALL `.`, `\n`
   * itself). Without one, every match lies within one line of a multi-line text.
   */
  matchesNewline: boolean;
  /** Matching can differ between bytes and code points: needs UTF8|UCP to be exact on non-ASCII text. */
  unicodeSensitive: boolean;
  /** The expression itself contains non-ASCII characters. */
  nonAscii: boolean;
  /** Case-insensitivity differs inside the expression from its global setting. */
  mixedCase: boolean;
}

export interface TranslatedRegex {
  source: string;
  ignoreCase: boolean;
  multiline: boolean;
  /** PCRE syntax for Hyperscan; DOTALL/CASELESS/MULTILINE are passed as flags, not inline. */
  hyperscan: string;
  /** JavaScript source for `new RegExp(js, jsFlags)`, or null when JS cannot express it. */
  js: string | null;
  jsFlags: string;
  jsUnsupported?: string;
  features: PyRegexFeatures;
  groups: number;
}

const HEX = /^[0-9a-fA-F]+$/;
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ASCII_SPACE = '\\t\\n\\v\\f\\r ';

class Parser {
  private pos = 0;
  private groupCount = 0;
  private readonly names = new Map<string, number>();
  private readonly src: string;

  constructor(src: string, private readonly globalFlags: Flags) {
    this.src = src;
  }

  get groups(): number {
    return this.groupCount;
  }

  parse(): Node {
    const node = this.parseAlt(this.globalFlags);
    if (this.pos < this.src.length) throw new PyRegexSyntaxError('unbalanced parenthesis', this.pos);
    return node;
  }

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private fail(message: string, at = this.pos): never {
    throw new PyRegexSyntaxError(message, at);
  }

  private parseAlt(flags: Flags): Node {
    const alts: Node[] = [this.parseSeq(flags)];
    while (this.peek() === '|') {
      this.pos++;
      alts.push(this.parseSeq(flags));
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private parseSeq(flags: Flags): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === '|' || c === ')') break;
      if (flags.x && /\s/.test(c)) {
        this.pos++;
        continue;
      }
      if (flags.x && c === '#') {
        while (this.pos < this.src.length && this.peek() !== '\n') this.pos++;
        continue;
      }
      const atomStart = this.pos;
      const atom = this.parseAtom(flags);
      if (atom === null) continue;
      items.push(this.parseQuantifiers(atom, flags, atomStart));
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  private parseQuantifiers(atom: Node, flags: Flags, atomStart: number): Node {
    let node = atom;
    for (;;) {
      if (flags.x) while (/\s/.test(this.peek()) && this.pos < this.src.length) this.pos++;
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.pos));
        if (!m || (m[1] === '' && m[2] === '')) return node; // a literal '{' in Python
        min = m[1] === '' ? 0 : Number(m[1]);
        max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) this.fail('min repeat greater than max repeat');
        this.pos += m[0].length - 1;
      } else return node;
      if (node.t === 'anchor' || node.t === 'assert' || (node.t === 'quant' && !this.canRequantify(node))) {
        this.fail(node.t === 'quant' ? 'multiple repeat' : 'nothing to repeat', atomStart);
      }
      this.pos++;
      let lazy = false;
      let possessive = false;
      if (this.peek() === '?') {
        lazy = true;
        this.pos++;
      } else if (this.peek() === '+') {
        possessive = true;
        this.pos++;
      }
      node = { t: 'quant', body: node, min, max, lazy, possessive };
    }
  }

  private canRequantify(_node: Node): boolean {
    return false; // Python rejects `a**`, `a{2}{3}`
  }

  private parseAtom(flags: Flags): Node | null {
    const c = this.peek();
    const start = this.pos;
    switch (c) {
      case '(':
        return this.parseGroup(flags);
      case '[':
        return this.parseClass(flags);
      case '.':
        this.pos++;
        return { t: 'dot', dotall: flags.s };
      case '^':
        this.pos++;
        return { t: 'anchor', kind: 'start', multiline: flags.m };
      case '$':
        this.pos++;
        return { t: 'anchor', kind: 'end', multiline: flags.m };
      case '\\':
        return this.parseEscape(flags);
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat', start);
      case '{': {
        if (/^\{(\d+,?\d*|,\d+)\}/.test(this.src.slice(this.pos))) this.fail('nothing to repeat', start);
        this.pos++;
        return { t: 'char', cp: 0x7b, ci: flags.i };
      }
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return { t: 'char', cp, ci: flags.i };
      }
    }
  }

  private parseFlagLetters(): { on: string; off: string } {
    let on = '';
    let off = '';
    let target: 'on' | 'off' = 'on';
    while (/[aiLmsux-]/.test(this.peek())) {
      const ch = this.peek();
      this.pos++;
      if (ch === '-') {
        if (target === 'off') this.fail('bad inline flags');
        target = 'off';
      } else if (target === 'on') on += ch;
      else off += ch;
    }
    if (on.includes('L')) this.fail('bad inline flags: cannot use \'L\' flag with a str pattern');
    if (off.includes('a') || off.includes('u')) this.fail('bad inline flags: cannot turn off \'a\' or \'u\'');
    return { on, off };
  }

  private parseGroup(flags: Flags): Node | null {
    const start = this.pos;
    this.pos++; // (
    if (this.peek() !== '?') {
      const index = ++this.groupCount;
      const body = this.parseAlt(flags);
      this.expect(')', start);
      return { t: 'group', kind: 'capture', index, body };
    }
    this.pos++; // ?
    const c = this.peek();
    if (c === ':') {
      this.pos++;
      const body = this.parseAlt(flags);
      this.expect(')', start);
      return { t: 'group', kind: 'noncapture', body };
    }
    if (c === 'P' && this.peek(1) === '<') {
      this.pos += 2;
      const name = this.readName('>');
      if (this.names.has(name)) this.fail(`redefinition of group name '${name}'`, start);
      const index = ++this.groupCount;
      this.names.set(name, index);
      const body = this.parseAlt(flags);
      this.expect(')', start);
      return { t: 'group', kind: 'capture', index, name, body };
    }
    if (c === 'P' && this.peek(1) === '=') {
      this.pos += 2;
      const name = this.readName(')');
      const index = this.names.get(name);
      if (index === undefined) this.fail(`unknown group name '${name}'`, start);
      return { t: 'backref', index };
    }
    if (c === '=' || c === '!') {
      this.pos++;
      const body = this.parseAlt(flags);
      this.expect(')', start);
      return { t: 'look', ahead: true, negative: c === '!', body };
    }
    if (c === '<' && (this.peek(1) === '=' || this.peek(1) === '!')) {
      const negative = this.peek(1) === '!';
      this.pos += 2;
      const body = this.parseAlt(flags);
      this.expect(')', start);
      return { t: 'look', ahead: false, negative, body };
    }
    if (c === '>') {
      this.pos++;
      const body = this.parseAlt(flags);
      this.expect(')', start);
      return { t: 'atomic', body };
    }
    if (c === '#') {
      while (this.pos < this.src.length && this.peek() !== ')') this.pos++;
      this.expect(')', start);
      return null;
    }
    if (c === '(') {
      this.pos++;
      const ref = this.readName(')');
      const index = /^\d+$/.test(ref) ? Number(ref) : this.names.get(ref);
      if (index === undefined || index > this.groupCount) this.fail(`unknown group '${ref}'`, start);
      const body = this.parseAlt(flags);
      this.expect(')', start);
      const yes = body.t === 'alt' ? body.alts[0]! : body;
      const rest = body.t === 'alt' ? body.alts.slice(1) : [];
      if (rest.length > 1) this.fail('conditional backref with more than two branches', start);
      return { t: 'cond', index, yes, no: rest[0] ?? { t: 'seq', items: [] } };
    }
    if (/[aiLmsux-]/.test(c)) {
      const { on, off } = this.parseFlagLetters();
      if (this.peek() === ')') {
        // Global flags: Python 3.11 requires them at the start; they were applied before parsing.
        if (off !== '') this.fail('missing :', this.pos);
        if (start !== 0 && !this.leadingGlobalFlags(start)) {
          this.fail('global flags not at the start of the expression', start);
        }
        this.pos++;
        return null;
      }
      if (this.peek() !== ':') this.fail('missing -, : or )');
      this.pos++;
      const scoped: Flags = { ...flags };
      for (const f of on) if (f in scoped) scoped[f as keyof Flags] = true;
      for (const f of off) if (f in scoped) scoped[f as keyof Flags] = false;
      const body = this.parseAlt(scoped);
      this.expect(')', start);
      return { t: 'group', kind: 'noncapture', body };
    }
    return this.fail(`unknown extension ?${c}`, start);
  }

  private leadingGlobalFlags(start: number): boolean {
    return /^(\(\?[aiLmsux]+\))+$/.test(this.src.slice(0, start));
  }

  private readName(end: string): string {
    const close = this.src.indexOf(end, this.pos);
    if (close < 0) this.fail('missing group name terminator');
    const name = this.src.slice(this.pos, close);
    if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(name) && !/^\d+$/.test(name)) this.fail(`bad character in group name '${name}'`);
    this.pos = close + 1;
    return name;
  }

  private expect(ch: string, openedAt: number): void {
    if (this.peek() !== ch) this.fail('missing ), unterminated subpattern', openedAt);
    this.pos++;
  }

  /** Escapes that stand for one code point, shared by atoms and classes; null when not one of them. */
  private readCharEscape(inClass: boolean): number | null {
    const c = this.peek();
    const simple: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
    if (c in simple) {
      this.pos++;
      return simple[c]!;
    }
    if (inClass && c === 'b') {
      this.pos++;
      return 8;
    }
    if (c === 'x' || c === 'u' || c === 'U') {
      const width = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const hex = this.src.slice(this.pos + 1, this.pos + 1 + width);
      if (hex.length !== width || !HEX.test(hex)) this.fail(`incomplete escape \\${c}${hex}`, this.pos - 1);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) this.fail(`bad escape \\${c}${hex}`, this.pos - 1);
      this.pos += 1 + width;
      return cp;
    }
    if (c === 'N' && this.peek(1) === '{') {
      this.fail('\\N{name} escapes are not supported', this.pos - 1);
    }
    if (c === '0' || (inClass && /[0-7]/.test(c))) {
      const m = /^[0-7]{1,3}/.exec(this.src.slice(this.pos))!;
      const cp = parseInt(m[0], 8);
      if (cp > 0o377) this.fail('octal escape value outside of range 0-0o377', this.pos - 1);
      this.pos += m[0].length;
      return cp;
    }
    if (/[A-Za-z0-9]/.test(c)) return null;
    if (c === '') this.fail('bad escape (end of pattern)', this.pos - 1);
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private parseEscape(flags: Flags): Node {
    const start = this.pos;
    this.pos++; // backslash
    const c = this.peek();
    if (/[dDwWsS]/.test(c) && c !== '') {
      this.pos++;
      return { t: 'esc', kind: c as EscClass, ascii: flags.a };
    }
    if (c === 'A' || c === 'Z' || c === 'b' || c === 'B') {
      this.pos++;
      return { t: 'assert', kind: c, ascii: flags.a };
    }
    if (/[1-9]/.test(c)) {
      const m = /^[0-7]{3}/.exec(this.src.slice(this.pos));
      if (m && c <= '3') {
        this.pos += 3;
        return { t: 'char', cp: parseInt(m[0], 8), ci: flags.i };
      }
      const d = /^\d{1,2}/.exec(this.src.slice(this.pos))![0];
      const index = Number(d);
      if (index > this.groupCount) this.fail(`invalid group reference ${index}`, start);
      this.pos += d.length;
      return { t: 'backref', index };
    }
    const cp = this.readCharEscape(false);
    if (cp === null) this.fail(`bad escape \\${c}`, start);
    return { t: 'char', cp, ci: flags.i };
  }

  private parseClass(flags: Flags): Node {
    const start = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated character set', start);
      const c = this.peek();
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const lo = this.readClassAtom(flags);
      if (typeof lo !== 'number') {
        items.push(lo);
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        const rangeAt = this.pos;
        this.pos++;
        const hi = this.readClassAtom(flags);
        if (typeof hi !== 'number') this.fail('bad character range', rangeAt);
        if (hi < lo) this.fail('bad character range', rangeAt);
        items.push({ t: 'range', lo, hi });
      } else items.push({ t: 'range', lo, hi: lo });
    }
    return { t: 'class', negated, items, ci: flags.i };
  }

  private readClassAtom(flags: Flags): number | ClassItem {
    void flags;
    const c = this.peek();
    if (c === '\\') {
      const at = this.pos;
      this.pos++;
      const e = this.peek();
      if (/[dDwWsS]/.test(e) && e !== '') {
        this.pos++;
        return { t: 'esc', kind: e as EscClass };
      }
      const cp = this.readCharEscape(true);
      if (cp === null) this.fail(`bad escape \\${e}`, at);
      return cp;
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

/** Reads the leading `(?flags)` groups; Python applies them to the whole expression. */
function globalFlags(src: string, ignoreCaseDefault: boolean): Flags {
  const flags: Flags = { i: ignoreCaseDefault, m: false, s: false, x: false, a: false };
  const re = /\(\?([aiLmsux]+)\)/y;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    for (const f of m[1]!) if (f in flags) flags[f as keyof Flags] = true;
  }
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Feature analysis

function walk(node: Node, visit: (n: Node, parent: Node | null) => void, parent: Node | null = null): void {
  visit(node, parent);
  switch (node.t) {
    case 'seq':
      node.items.forEach((n) => walk(n, visit, node));
      break;
    case 'alt':
      node.alts.forEach((n) => walk(n, visit, node));
      break;
    case 'group':
    case 'look':
    case 'atomic':
    case 'quant':
      walk(node.body, visit, node);
      break;
    case 'cond':
      walk(node.yes, visit, node);
      walk(node.no, visit, node);
      break;
    default:
  }
}

/** The escapes `\s`, `\W` and `\D` match `\n`; `\S`, `\w` and `\d` do not. */
const NEWLINE_CLASSES: ReadonlySet<EscClass> = new Set<EscClass>(['s', 'W', 'D']);

function analyse(root: Node, global: Flags): PyRegexFeatures {
  const f: PyRegexFeatures = {
    needsPrefilter: false,
    newlineSensitive: false,
    anchored: false,
    matchesNewline: false,
    unicodeSensitive: false,
    nonAscii: false,
    mixedCase: false,
  };
  // A `.` or negated class repeated as `*`/`+` spans the same text whether it steps over bytes or
  // code points (UTF-8 is self-synchronising); only a bounded count of them can tell the difference.
  const runOk = (parent: Node | null): boolean => parent?.t === 'quant' && parent.max === Infinity && parent.min <= 1;
  walk(root, (n, parent) => {
    switch (n.t) {
      case 'look':
      case 'atomic':
      case 'backref':
      case 'cond':
        f.needsPrefilter = true;
        break;
      case 'quant':
        if (n.possessive) f.needsPrefilter = true;
        break;
      case 'dot':
        if (!n.dotall) f.newlineSensitive = true;
        else f.matchesNewline = true;
        if (!runOk(parent)) f.unicodeSensitive = true;
        break;
      case 'esc':
        if (NEWLINE_CLASSES.has(n.kind)) f.matchesNewline = true;
        if (!n.ascii) f.unicodeSensitive = true;
        break;
      case 'anchor':
        if (!n.multiline) f.anchored = true;
        break;
      case 'assert':
        if (n.kind === 'A' || n.kind === 'Z') f.anchored = true;
        if ((n.kind === 'b' || n.kind === 'B') && !n.ascii) f.unicodeSensitive = true;
        break;
      case 'char':
        if (n.cp === 0x0a) f.matchesNewline = true;
        if (n.cp > 0x7f) f.nonAscii = f.unicodeSensitive = true;
        if (n.ci !== global.i) f.mixedCase = true;
        break;
      case 'class':
        if (n.ci !== global.i) f.mixedCase = true;
        for (const it of n.items) {
          if (it.t === 'esc' && !global.a) f.unicodeSensitive = true;
          if (it.t === 'range' && it.hi > 0x7f) f.nonAscii = f.unicodeSensitive = true;
        }
        if (n.negated && !runOk(parent)) f.unicodeSensitive = true;
        if (n.negated !== n.items.some((it) => (it.t === 'range' ? it.lo <= 0x0a && it.hi >= 0x0a : NEWLINE_CLASSES.has(it.kind)))) f.matchesNewline = true;
        break;
      default:
    }
  });
  return f;
}

// ---------------------------------------------------------------------------------------------
// Emitters

function hexEscape(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}

function pcreChar(cp: number): string {
  if (cp < 0x20 || cp === 0x7f) return hexEscape(cp);
  const ch = String.fromCodePoint(cp);
  if (cp < 0x80) return /[A-Za-z0-9_]/.test(ch) ? ch : `\\${ch}`;
  return ch; // UTF-8 in the pattern; such patterns are compiled with HS_FLAG_UTF8
}

function pcreClassChar(cp: number): string {
  if (cp < 0x20 || cp === 0x7f) return hexEscape(cp);
  const ch = String.fromCodePoint(cp);
  if (cp < 0x80) return /[A-Za-z0-9_ ]/.test(ch) ? ch : `\\${ch}`;
  return ch;
}

function emitHyperscan(node: Node, global: Flags): string {
  const ci = (inner: string, nodeCi: boolean): string =>
    nodeCi === global.i ? inner : `(?${nodeCi ? 'i' : '-i'}:${inner})`;
  const rec = (n: Node): string => {
    switch (n.t) {
      case 'seq':
        return n.items.map(rec).join('');
      case 'alt':
        return n.alts.map(rec).join('|');
      case 'char':
        return ci(pcreChar(n.cp), n.ci);
      case 'dot':
        return '.';
      case 'class': {
        const body = n.items
          .map((it) => (it.t === 'esc' ? `\\${it.kind}` : it.lo === it.hi ? pcreClassChar(it.lo) : `${pcreClassChar(it.lo)}-${pcreClassChar(it.hi)}`))
          .join('');
        return ci(`[${n.negated ? '^' : ''}${body}]`, n.ci);
      }
      case 'esc':
        return `\\${n.kind}`;
      case 'anchor':
        if (n.multiline === global.m) return n.kind === 'start' ? '^' : '$';
        return `(?${n.multiline ? 'm' : '-m'}:${n.kind === 'start' ? '^' : '$'})`;
      case 'assert':
        return n.kind === 'Z' ? '\\z' : `\\${n.kind}`;
      case 'group':
        return n.kind === 'capture' ? `(${rec(n.body)})` : `(?:${rec(n.body)})`;
      case 'look':
        return `(?${n.ahead ? '' : '<'}${n.negative ? '!' : '='}${rec(n.body)})`;
      case 'atomic':
        return `(?>${rec(n.body)})`;
      case 'backref':
        return `\\${n.index}`;
      case 'cond':
        return `(?(${n.index})${rec(n.yes)}|${rec(n.no)})`;
      case 'quant': {
        const q =
          n.min === 0 && n.max === Infinity ? '*'
          : n.min === 1 && n.max === Infinity ? '+'
          : n.min === 0 && n.max === 1 ? '?'
          : n.max === Infinity ? `{${n.min},}`
          : n.min === n.max ? `{${n.min}}`
          : `{${n.min},${n.max}}`;
        return `${rec(n.body)}${q}${n.lazy ? '?' : n.possessive ? '+' : ''}`;
      }
    }
  };
  return rec(node);
}

class JsUnsupported extends Error {}

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function jsChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (JS_SYNTAX.has(ch)) return `\\${ch}`;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x2028 && cp <= 0x2029)) return `\\u{${cp.toString(16)}}`;
  return ch;
}

function jsClassChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if ('\\]^-['.includes(ch)) return `\\${ch}`;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x2028 && cp <= 0x2029)) return `\\u{${cp.toString(16)}}`;
  return ch;
}

/** Python's \w, \d, \s (Unicode or ASCII) as the inside of a JS `u`-mode class. */
function jsEscSet(kind: 'd' | 'w' | 's', ascii: boolean): string {
  if (kind === 'd') return ascii ? '0-9' : '\\p{Nd}';
  if (kind === 'w') return ascii ? 'A-Za-z0-9_' : '\\p{L}\\p{N}_';
  return ascii ? ASCII_SPACE : PY_SPACE;
}

function emitJs(node: Node, global: Flags): string {
  const rec = (n: Node): string => {
    switch (n.t) {
      case 'seq':
        return n.items.map(rec).join('');
      case 'alt':
        return n.alts.map(rec).join('|');
      case 'char':
        if (n.ci !== global.i) throw new JsUnsupported('scoped case-sensitivity flags');
        return jsChar(n.cp);
      case 'dot':
        return n.dotall ? '[\\s\\S]' : '[^\\n]';
      case 'class': {
        if (n.ci !== global.i) throw new JsUnsupported('scoped case-sensitivity flags');
        let positive = '';
        const negatedSets: string[] = [];
        for (const it of n.items) {
          if (it.t === 'range') {
            positive += it.lo === it.hi ? jsClassChar(it.lo) : `${jsClassChar(it.lo)}-${jsClassChar(it.hi)}`;
          } else {
            const set = jsEscSet(it.kind.toLowerCase() as 'd' | 'w' | 's', global.a);
            if (it.kind === it.kind.toLowerCase()) positive += set;
            else negatedSets.push(set);
          }
        }
        if (negatedSets.length === 0) return `[${n.negated ? '^' : ''}${positive}]`;
        if (!n.negated) {
          const parts = [...(positive ? [`[${positive}]`] : []), ...negatedSets.map((s) => `[^${s}]`)];
          return `(?:${parts.join('|')})`;
        }
        // [^P\W] = not P and in every negated set's complement.
        const [last, ...rest] = negatedSets;
        return `${positive ? `(?![${positive}])` : ''}${rest.map((s) => `(?=[${s}])`).join('')}[${last}]`;
      }
      case 'esc': {
        const set = jsEscSet(n.kind.toLowerCase() as 'd' | 'w' | 's', n.ascii);
        return n.kind === n.kind.toLowerCase() ? `[${set}]` : `[^${set}]`;
      }
      case 'anchor':
        if (n.kind === 'start') return n.multiline ? '(?<![^\\n])' : '(?<![\\s\\S])';
        return n.multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
      case 'assert': {
        if (n.kind === 'A') return '(?<![\\s\\S])';
        if (n.kind === 'Z') return '(?![\\s\\S])';
        const w = `[${jsEscSet('w', n.ascii)}]`;
        return n.kind === 'b'
          ? `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`
          : `(?:(?<=${w})(?=${w})|(?<!${w})(?!${w}))`;
      }
      case 'group':
        if (n.kind === 'capture') return n.name ? `(?<${n.name}>${rec(n.body)})` : `(${rec(n.body)})`;
        return `(?:${rec(n.body)})`;
      case 'look':
        return `(?${n.ahead ? '' : '<'}${n.negative ? '!' : '='}${rec(n.body)})`;
      case 'atomic':
        throw new JsUnsupported('atomic groups');
      case 'backref':
        return `\\${n.index}`;
      case 'cond':
        throw new JsUnsupported('conditional groups');
      case 'quant': {
        if (n.possessive) throw new JsUnsupported('possessive quantifiers');
        const q = n.max === Infinity ? `{${n.min},}` : `{${n.min},${n.max}}`;
        // A lone-item body such as \u{..} or a class can take a quantifier; wrap everything else.
        const body = rec(n.body);
        const single = n.body.t === 'char' || n.body.t === 'class' || n.body.t === 'dot' || n.body.t === 'esc' || n.body.t === 'group';
        return `${single ? body : `(?:${body})`}${q}${n.lazy ? '?' : ''}`;
      }
    }
  };
  return rec(node);
}

/** The syntax tree of one Python regular expression (throws PyRegexSyntaxError). */
export function parsePyRegex(source: string, ignoreCase = true): Node {
  return new Parser(source, globalFlags(source, ignoreCase)).parse();
}

/**
 * Translates one Python regular expression. `ignoreCase` is the default applied when the expression
 * has no `(?i)` of its own (logsift matches case-insensitively by default, like deadends.dev).
 */
export function translatePyRegex(source: string, ignoreCase: boolean): TranslatedRegex {
  const global = globalFlags(source, ignoreCase);
  const parser = new Parser(source, global);
  const ast = parser.parse();
  const features = analyse(ast, global);
  let js: string | null = null;
  let jsUnsupported: string | undefined;
  try {
    js = emitJs(ast, global);
    new RegExp(js, global.i ? 'iu' : 'u');
  } catch (err) {
    js = null;
    jsUnsupported = err instanceof JsUnsupported ? err.message : `JavaScript RegExp: ${(err as Error).message}`;
  }
  return {
    source,
    ignoreCase: global.i,
    multiline: global.m,
    hyperscan: emitHyperscan(ast, global),
    js,
    jsFlags: global.i ? 'iu' : 'u',
    ...(jsUnsupported !== undefined ? { jsUnsupported } : {}),
    features,
    groups: parser.groups,
  };
}
