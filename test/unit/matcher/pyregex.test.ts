import { describe, expect, it } from 'vitest';

import { PyRegexSyntaxError, translatePyRegex } from '../../../src/matcher/pyregex.js';

/** Python `re.search(pattern, text, re.I if ci else 0)` through the exact JS translation. */
function pySearch(pattern: string, text: string, ci = true): boolean {
  const t = translatePyRegex(pattern, ci);
  if (t.js === null) throw new Error(`no JS form: ${t.jsUnsupported}`);
  return new RegExp(t.js, t.jsFlags).test(text);
}

describe('translatePyRegex: Python semantics in the exact engine', () => {
  it.each([
    // [pattern, text, expected] — each expectation checked against CPython 3.11 re.search(..., re.I)
    ['a.c', 'a\nc', false],
    ['(?s)a.c', 'a\nc', true],
    ['end$', 'the end\n', true],
    ['end$', 'the end\n\n', false],
    ['end\\Z', 'the end\n', false],
    ['^start', 'x\nstart', false],
    ['(?m)^start', 'x\nstart', true],
    ['(?m)x$', 'x\r\ny', false],
    ['a{,2}b', 'aab', true],
    ['x{,2}y', 'xxxy', true],
    ['a{2}', 'a{2}', false],
    ['{foo}', '{foo}', true],
    ['[]a]+', ']]a', true],
    ['[^]a]', ']a', false],
    ['\\d+', '٣٤', true],
    ['(?a)\\d+', '٣٤', false],
    ['\\w+', 'é', true],
    ['\\bcafé\\b', 'un café noir', true],
    ['\\s', '\u00a0', true],
    ['\\s', '\u001c', true],
    ['ERROR', 'error', true],
    ['(?P<q>[\'"]).*(?P=q)', '"quoted"', true],
    ['(?P<q>[\'"]).*(?P=q)', '"quoted\'', false],
    ['(\\w)\\1', 'hello', true],
    ['(?<=foo)bar', 'foobar', true],
    ['(?<!foo)bar', 'foobar', false],
    ['(?x) a b  c # comment', 'abc', true],
    ['a(?#note)b', 'ab', true],
    ['\\x41\\u0042\\U00000043', 'abc', true],
    ['\\0', '\0', true],
    ['[\\w.-]+@', 'a.b-c@', true],
    ['[^\\W\\d]+', '_é', true],
    ['[^\\W\\d]', '7', false],
    ['k', '\u212a', true],
    ['\\.', 'x', false],
    ['a\\ b', 'a b', true],
    ['\\-', '-', true],
  ])('re.search(%j, %j) is %s', (pattern, text, expected) => {
    expect(pySearch(pattern, text)).toBe(expected);
  });

  it('is case-sensitive when asked and still honours (?i)', () => {
    expect(pySearch('ERROR', 'error', false)).toBe(false);
    expect(pySearch('(?i)ERROR', 'error', false)).toBe(true);
  });

  it.each([
    ['(', 'missing ), unterminated subpattern'],
    ['a)', 'unbalanced parenthesis'],
    ['*a', 'nothing to repeat'],
    ['a**', 'multiple repeat'],
    ['[a', 'unterminated character set'],
    ['[z-a]', 'bad character range'],
    ['\\q', 'bad escape'],
    ['(?P=nope)', 'unknown group name'],
    ['\\2(a)', 'invalid group reference'],
    ['a{3,1}', 'min repeat greater than max repeat'],
    ['(?L)a', 'bad inline flags'],
    ['a(?i)b', 'global flags not at the start'],
  ])('rejects %j like Python (%s)', (pattern, message) => {
    expect(() => translatePyRegex(pattern, true)).toThrow(PyRegexSyntaxError);
    expect(() => translatePyRegex(pattern, true)).toThrow(message);
  });

  it('emits Hyperscan syntax for Python-only constructs', () => {
    expect(translatePyRegex('a{,3}', true).hyperscan).toBe('a{0,3}');
    expect(translatePyRegex('x\\Z', true).hyperscan).toBe('x\\z');
    expect(translatePyRegex('(?P<n>a)b', true).hyperscan).toBe('(a)b');
    expect(translatePyRegex('(?i)a b', false).hyperscan).toBe('a\\ b');
    expect(translatePyRegex('(?i)x', false).ignoreCase).toBe(true);
  });

  it('reports the features that pick a compile class', () => {
    const f = (p: string) => translatePyRegex(p, true).features;
    expect(f('foo.*bar')).toMatchObject({ newlineSensitive: true, unicodeSensitive: false, needsPrefilter: false });
    expect(f('a.b')).toMatchObject({ unicodeSensitive: true });
    expect(f('a\\w+')).toMatchObject({ unicodeSensitive: true });
    expect(f('(?a)a\\w+')).toMatchObject({ unicodeSensitive: false });
    expect(f('日本.*口座')).toMatchObject({ nonAscii: true, unicodeSensitive: true });
    expect(f('(a)\\1')).toMatchObject({ needsPrefilter: true });
    expect(f('(?=x)y')).toMatchObject({ needsPrefilter: true });
    expect(f('(?s)a.b')).toMatchObject({ newlineSensitive: false });
    expect(f('(?>ab)c').needsPrefilter).toBe(true);
    expect(translatePyRegex('(?>ab)c', true).js).toBeNull();
    // Whole-text anchors; MULTILINE ones read a line's edges as the text's.
    for (const p of ['^a.b', 'a.b$', '\\Aa.b', 'a.b\\Z', '(?:x|^a).b']) expect(f(p).anchored, p).toBe(true);
    for (const p of ['(?m)^a.b$', 'a.b', '\\ba.b\\B', '[$^]a']) expect(f(p).anchored, p).toBe(false);
    // What can match a newline: \s \W \D, a negated class without \n, a DOTALL dot, \n itself.
    for (const p of ['a.*\\s+b', 'a.*\\Wb', 'a.*\\Db', 'a.*[^x]b', '(?s)a.b', 'a\\nb', 'a.*[\\s,]b', 'a.*[\\x00-\\x7f]b']) expect(f(p).matchesNewline, p).toBe(true);
    for (const p of ['a.*b', 'a.*\\S+\\w\\db', 'a.*[^\\n]b', 'a.*[^\\s]b', 'a.*[a-z ]b']) expect(f(p).matchesNewline, p).toBe(false);
    expect(translatePyRegex('(?-i:A)b', true).jsUnsupported).toMatch(/scoped case/);
  });
});
