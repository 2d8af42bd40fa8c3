import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { Matcher, type BuildEvent } from '../../../src/matcher/index.js';
import { loadNative, type NativeBinding } from '../../../src/matcher/native.js';
import { kbOf, record } from '../../helpers/kb.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-matcher');

function ids(m: Matcher, kb: ReturnType<typeof kbOf>, texts: string[]): string[][] {
  return m.scan(texts).map((r) => r.map((i) => kb.records[i]!.id));
}

describe('Matcher compile classes', () => {
  const kb = kbOf(
    record('a-native', 'disk (full|quota exceeded)'),
    record('b-prefilter', '(?P<q>[\'"])secret(?P=q)'),
    record('c-lookbehind', '(?<!no )route to host'),
    record('d-rejected-syntax', 'unbalanced('),
    record('e-rejected-empty', 'x*'),
    record('f-atomic', '(?>atomic)|never'),
  );

  it('puts every record in exactly one class with a reason', async () => {
    const m = await Matcher.create(kb, { cacheDir: null });
    const byId = Object.fromEntries(m.plan.map((p) => [p.id, p]));
    expect(byId['a-native']!.cls).toBe('native');
    expect(byId['b-prefilter']!.cls).toBe('prefilter');
    expect(byId['c-lookbehind']!.cls).toBe('prefilter');
    expect(byId['d-rejected-syntax']).toMatchObject({ cls: 'rejected', reason: expect.stringMatching(/invalid Python regex/) });
    expect(byId['e-rejected-empty']).toMatchObject({ cls: 'rejected', reason: expect.stringMatching(/empty string/) });
    // Hyperscan has no atomic groups and JS cannot express them: rejected with both reasons.
    expect(byId['f-atomic']!.cls).toBe('rejected');
    expect(m.info.patterns).toEqual({ native: 1, prefilter: 2, fallback: 0, rejected: 3 });
  });

  it('confirms prefilter candidates with the exact engine', async () => {
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(ids(m, kb, ['the "secret" is out', 'the "secret\' is out', 'no route to host', 'No route to host', 'a route to host'])).toEqual([
      ['b-prefilter'],
      [],
      [],
      [],
      ['c-lookbehind'],
    ]);
  });

  it('starts the exact engine and its stand-by at creation, or with prewarm: false the engine alone at its first use', async () => {
    const warm = await Matcher.create(kb, { cacheDir: null });
    const lazy = await Matcher.create(kb, { cacheDir: null, prewarm: false });
    try {
      expect(warm.exact.workers).toBe(2);
      expect(lazy.exact.workers).toBe(0);
      expect(ids(lazy, kb, ['nothing here', 'disk full'])).toEqual([[], ['a-native']]);
      expect(lazy.exact.workers).toBe(0);
      expect(ids(lazy, kb, ['the "secret" is out'])).toEqual([['b-prefilter']]);
      expect(lazy.exact.workers).toBe(1);
    } finally {
      warm.close();
      lazy.close();
    }
  });
});

describe('Matcher semantics', () => {
  it('handles empty batches, empty messages and duplicates of one message', async () => {
    const kb = kbOf(record('r', 'boom'));
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(m.scan([])).toEqual([]);
    expect(ids(m, kb, ['', 'BOOM', 'boom boom boom', ''])).toEqual([[], ['r'], ['r'], []]);
  });

  it('keeps ^ and $ per message in a batch', async () => {
    const kb = kbOf(record('start', '^panic:'), record('end', 'exit code \\d+$'));
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(ids(m, kb, ['panic: x', 'a panic: x', 'exit code 3', 'exit code 3 then', 'panic: exit code 1'])).toEqual([
      ['start'],
      [],
      ['end'],
      [],
      ['end', 'start'],
    ]);
  });

  it('does not let `.` cross a newline inside a multi-line message (the database is DOTALL)', async () => {
    const kb = kbOf(record('dot', 'Caused by:.*Timeout'), record('dotall', '(?s)Caused by:.*Timeout'));
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(ids(m, kb, ['Caused by: x Timeout', 'Caused by: x\n\tat Timeout'])).toEqual([['dot', 'dotall'], ['dotall']]);
  });

  it('decides `.` records on multi-line messages like Python: from a line when no whole-text anchor, else by the exact engine', async () => {
    const kb = kbOf(
      record('start', '^Caused by:.*Timeout'),
      record('start-m', '(?m)^Caused by:.*Timeout'),
      record('end', 'Timeout.*$'),
      record('z', 'Timeout.*\\Z'),
      record('cross', 'refused.*\\s+by peer'),
      record('word', '(?a)\\bfoo.*bar\\b'),
      record('dot', 'Caused by:.*Timeout'),
    );
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(m.plan.every((p) => p.cls === 'native' && p.features?.newlineSensitive === true)).toBe(true);
    expect(m.plan.filter((p) => p.features?.anchored).map((p) => p.id).sort()).toEqual(['end', 'start', 'z']);
    expect(m.plan.filter((p) => p.features?.matchesNewline).map((p) => p.id)).toEqual(['cross']);
    let asked: string[] = [];
    const test = m.exact.test.bind(m.exact);
    m.exact.test = (tasks) => {
      for (const t of tasks) for (const p of t.patterns) asked.push(kb.records[p]!.id);
      return test(tasks);
    };
    const texts = ['x\nCaused by: a Timeout', 'Caused by: a Timeout x\nmore', 'a Timeout\n', 'connection refused\nby peer', 'foo and bar\n', 'Caused by: x\n\tat Timeout', 'x\r\nCaused by: a Timeout\r\n'];
    // Python re.search with IGNORECASE on each text (scripts/gen-multiline-fixture.py's method).
    const python = [
      ['dot', 'end', 'start-m', 'z'],
      ['dot', 'start', 'start-m'],
      ['end'],
      ['cross'],
      ['word'],
      ['end', 'z'],
      ['dot', 'end', 'start-m'],
    ];
    expect(ids(m, kb, texts)).toEqual(python);
    // Per message, what the exact engine was asked: the anchored records that the DOTALL database
    // proposes, and the others only when no line matches them and they can match a newline.
    const perText = texts.map((t) => {
      asked = [];
      expect(ids(m, kb, [t])[0]).toEqual(python[texts.indexOf(t)]);
      return asked.sort();
    });
    // `dot` and `start-m` on 'Caused by: x\n\tat Timeout': nothing in them matches \n, so no line
    // matching them is no match; `cross` has a \s, which can take the newline.
    expect(perText).toEqual([['end', 'z'], ['end', 'start', 'z'], ['end', 'z'], ['cross'], [], ['end', 'start', 'z'], ['end', 'z']]);
  });

  it('matches non-ASCII text like Python (UTF-8 + Unicode properties where it matters)', async () => {
    const kb = kbOf(
      record('word', 'user \\w+ not found'),
      record('digit', 'code \\d{3}'),
      record('dot', 'key=.;'),
      record('cjk', '接続.*拒否'),
      record('greek', 'σφάλμα'),
      record('ascii', 'plain literal'),
    );
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(
      ids(m, kb, ['user élodie not found', 'code ٣٤٥', 'key=é;', '接続が拒否されました', 'ΣΦΆΛΜΑ δίσκου', 'Plain Literal — ok', 'key=éé;']),
    ).toEqual([['word'], ['digit'], ['dot'], ['cjk'], ['greek'], ['ascii'], []]);
  });

  it('is case-sensitive when configured, except for patterns with (?i)', async () => {
    const kb = kbOf(record('cs', 'ERROR'), record('ci', '(?i)warning'));
    const m = await Matcher.create(kb, { cacheDir: null, ignoreCase: false });
    expect(ids(m, kb, ['error', 'ERROR', 'WARNING'])).toEqual([[], ['cs'], ['ci']]);
  });

  it('gives match spans from the exact engine', async () => {
    const kb = kbOf(record('r', 'code=\\d+'));
    const m = await Matcher.create(kb, { cacheDir: null });
    expect(m.span(0, 'exit code=137 now')).toEqual([5, 13]);
    expect(m.span(0, 'nothing')).toBeNull();
  });
});

describe('Matcher database cache', () => {
  const kb = kbOf(record('a', 'alpha \\d+'), record('b', 'beta'));

  it('loads a cached database instead of compiling, with the same answers', async () => {
    const dir = await tempDir();
    const events: BuildEvent['type'][] = [];
    const first = await Matcher.create(kb, { cacheDir: dir, onEvent: (e) => events.push(e.type) });
    expect(first.info.fromCache).toBe(false);
    expect(events).toContain('compile-done');
    await first.unicodeReady;
    events.length = 0;
    const second = await Matcher.create(kb, { cacheDir: dir, onEvent: (e) => events.push(e.type) });
    expect(second.info.fromCache).toBe(true);
    // `\d` needs the Unicode database for non-ASCII messages: cached too.
    expect(events).toEqual(['cache-hit', 'unicode-ready']);
    expect(second.unicodeComplete).toBe(true);
    expect(second.scan(['alpha 1 beta'])).toEqual(first.scan(['alpha 1 beta']));
  });

  it('rebuilds a corrupted or foreign cache file instead of trusting it', async () => {
    const dir = await tempDir();
    await Matcher.create(kb, { cacheDir: dir });
    const [file] = await readdir(dir);
    const path = join(dir, file!);
    const good = await readFile(path);

    // Truncated body.
    await writeFile(path, good.subarray(0, good.length - 100));
    const reasons: string[] = [];
    const onEvent = (e: BuildEvent) => e.type === 'cache-miss' && reasons.push(e.reason);
    let m = await Matcher.create(kb, { cacheDir: dir, onEvent });
    expect(m.info.fromCache).toBe(false);
    expect(m.scan(['alpha 7'])[0]).toEqual([0]);

    // Another knowledge base's file under this key's name.
    const otherDir = await tempDir();
    await Matcher.create(kbOf(record('a', 'gamma'), record('b', 'beta')), { cacheDir: otherDir });
    const [otherFile] = await readdir(otherDir);
    await writeFile(path, await readFile(join(otherDir, otherFile!)));
    m = await Matcher.create(kb, { cacheDir: dir, onEvent });
    expect(m.info.fromCache).toBe(false);
    expect(m.scan(['alpha 7', 'gamma'])).toEqual([[0], []]);

    // Garbage.
    await writeFile(path, 'not a database');
    m = await Matcher.create(kb, { cacheDir: dir, onEvent });
    expect(m.info.fromCache).toBe(false);
    expect(reasons).toEqual([expect.stringMatching(/libhs rejected|truncated/), expect.stringMatching(/key mismatch/), expect.stringMatching(/not a logsift database/)]);
    // And the rebuilt file is good again.
    expect((await Matcher.create(kb, { cacheDir: dir })).info.fromCache).toBe(true);
  });

  it('compiles without blocking the event loop', async () => {
    const kb2 = kbOf(...Array.from({ length: 8 }, (_, i) => record(`r${i}`, `err(or)? ${i}[a-z]{2,9} .*failed \\w+ (x|y|z)${i}`)));
    // Event-loop turns counted while the compile itself runs: a synchronous compile (blocking, then
    // a resolved promise) lets none through. Checked: a binding whose compile blocks gives 0 here.
    const native = loadNative();
    let ticks = 0;
    let counting = true;
    const tick = (): void => {
      ticks++;
      if (counting) setImmediate(tick);
    };
    let duringCompile = -1;
    const watched: NativeBinding = {
      ...native,
      compile: async (patterns) => {
        const before = ticks;
        const db = await native.compile(patterns);
        duringCompile = ticks - before;
        return db;
      },
    };
    setImmediate(tick);
    try {
      await Matcher.create(kb2, { cacheDir: null }, watched);
    } finally {
      counting = false;
    }
    expect(duringCompile).toBeGreaterThan(0);
  });
});

describe('fallback records: Hyperscan cannot compile them, the exact engine runs them on every message', () => {
  const kb = kbOf(
    // Look-aheads only: the prefilter form is empty, so Hyperscan gets nothing (plan: fallback).
    record('both-words', '^(?=.*timeout)(?=.*retry)'),
    // Too large for Hyperscan in both modes already at the pattern check (plan: fallback).
    record('too-large-ucp', 'error (\\w+\\s){300}end'),
    // Passes the pattern check, fails the full compile: demoted by the compile loop (database.ts).
    record('too-large-ascii', 'fail ([a-z]+ ){300}done'),
    record('plain', 'disk full'),
  );
  const words = (w: string, n: number) => `${w} `.repeat(n);

  it('classifies each with the reason, and compiles the rest', async () => {
    const events: BuildEvent['type'][] = [];
    const m = await Matcher.create(kb, { cacheDir: null, onEvent: (e) => events.push(e.type) });
    const byId = Object.fromEntries(m.plan.map((p) => [p.id, p]));
    expect(byId['both-words']).toMatchObject({ cls: 'fallback', reason: expect.stringMatching(/prefilter form matches the empty string/) });
    expect(byId['too-large-ucp']).toMatchObject({ cls: 'fallback', reason: expect.stringMatching(/too large.*also in prefilter mode/i) });
    expect(byId['too-large-ascii']).toMatchObject({ cls: 'fallback', reason: expect.stringMatching(/^Hyperscan compile failed: Pattern is too large/) });
    expect(byId['plain']!.cls).toBe('native');
    expect(m.info.patterns).toEqual({ native: 1, prefilter: 0, fallback: 3, rejected: 0 });
    // The first multi-compile failed on too-large-ascii; the second, without it, succeeded.
    expect(events.filter((e) => e === 'compile-start')).toHaveLength(2);
    expect(events).toContain('compile-done');
  });

  it('matches them exactly, alongside the native matches, and the same from the cache', async () => {
    const dir = await tempDir();
    const texts = [
      'retry after timeout',
      'timeout only',
      `error ${words('w', 300)}end`,
      `error ${words('w', 299)}end`,
      `FAIL ${words('Ab', 300)}done; disk full`,
      `fail ${words('ab', 299)}done`,
      'disk full',
    ];
    const want = [['both-words'], [], ['too-large-ucp'], [], ['plain', 'too-large-ascii'], [], ['plain']];
    const compiled = await Matcher.create(kb, { cacheDir: dir });
    expect(ids(compiled, kb, texts)).toEqual(want);
    const cached = await Matcher.create(kb, { cacheDir: dir });
    expect(cached.info.fromCache).toBe(true);
    expect(cached.info.patterns).toEqual(compiled.info.patterns);
    expect(ids(cached, kb, texts)).toEqual(want);
  });
});
