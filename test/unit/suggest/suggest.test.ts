import { readFileSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigSchema } from '../../../src/config/index.js';
import { KnowledgeBase, RecordSchema } from '../../../src/kb/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { Enricher } from '../../../src/enrich/index.js';
import { POOL_AFTER_LINES } from '../../../src/cli/scan.js';
import { enrichChunk } from '../../../src/kafka/index.js';
import { ErrorLineClassifier, ErrorTextSelector, MAX_MINED_CHARS, TemplateMiner, UnmatchedMiner, draftRecord, formatSuggestions, maskLine } from '../../../src/suggest/index.js';
import { runCli } from '../../helpers/cli.js';
import { kbOf, record } from '../../helpers/kb.js';
import { LOGHUB_DIR, TEST_CACHE_DIR, hasShared } from '../../helpers/shared.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-suggest');

describe('maskLine', () => {
  it('replaces variable parts with placeholders', () => {
    expect(maskLine('conn to 10.1.2.3:5432 failed after 250ms (attempt 3)')).toBe('conn to <IP> failed after <DUR> (attempt <NUM>)');
    expect(maskLine('open "/var/lib/a b.db": denied')).toBe('open <STR>: denied');
    expect(maskLine('read /var/log/app.log at 0x7ffe12 id 123e4567-e89b-12d3-a456-426614174000')).toBe('read <PATH> at <HEX> id <ID>');
    expect(maskLine('fetch https://example.org/x?y=1 sha deadbeef42 ok')).toBe('fetch <PATH> sha <HEX> ok');
    expect(maskLine('Dec 10 07:13:31 offset=-42 blk_-1608')).toBe('<TS> <NUM> <NUM> offset=<NUM> blk_<NUM>');
    expect(maskLine('[Sun Dec 04 04:47:44 2005] [error] at 2015-10-18 18:05:27,570 from /10.251.73.220:50010')).toBe('[<TS> <TS> <NUM> <NUM> <NUM>] [error] at <TIME> from /<NUM>');
    expect(maskLine("rhost=5.36.59.76 user=root can't ('x' 'y z')")).toBe("rhost=<IP> user=root can't (<STR> <STR>)");
  });
});

describe('TemplateMiner', () => {
  it('merges lines of one template, generalizing the differing tokens, and keeps others apart', () => {
    const m = new TemplateMiner();
    m.add('Failed to connect to db-1 port 5432: connection refused');
    m.add('Failed to connect to cache port 6379: connection refused');
    m.add('Failed to connect to queue port 5672: connection refused');
    m.add('Disk quota exceeded for user alice');
    const top = m.top(10);
    expect(top.map((t) => [t.count, t.template])).toEqual([
      [3, 'Failed to connect to <*> port <NUM>: connection refused'],
      [1, 'Disk quota exceeded for user alice'],
    ]);
    expect(top[0]!.example).toBe('Failed to connect to db-1 port 5432: connection refused');
    expect(m.lines).toBe(4);
  });

  it('holds at most maxClusters templates, evicting the least recently matched, and prunes the tree', () => {
    const m = new TemplateMiner({ maxClusters: 3 });
    const distinct = (i: number): string => `${'abcdefghij'[i]}x${i} unique-${'klmnopqrst'[i]} alpha${'uvwxyzabcd'[i]} beta gamma`;
    m.add(distinct(0));
    for (let i = 1; i < 10; i++) {
      m.add(distinct(i));
      m.add(distinct(0)); // keeps template 0 recent
    }
    expect(m.size).toBe(3);
    expect(m.evicted).toBe(7);
    expect(m.top(10).map((t) => t.example)).toEqual([distinct(0), distinct(8), distinct(9)]);
    // root → length → two token levels: at most 3 nodes per template.
    expect(m.nodeCount()).toBeLessThanOrEqual(1 + 2 * 3);
  });

  it('routes past maxChildren to a wildcard child instead of growing without bound', () => {
    const m = new TemplateMiner({ maxChildren: 3, similarity: 1 });
    for (const w of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) m.add(`${w} went wrong`);
    expect(m.size).toBe(5);
    expect(m.nodeCount()).toBeLessThanOrEqual(1 + 3 + 3);
  });
});

describe('TemplateMiner.addMasked (a line masked on another thread)', () => {
  it('gives the templates add() gives: maskLine splits back into exactly the tokens add() masks', () => {
    const lines = [
      ...(hasShared() ? readdirSync(LOGHUB_DIR).flatMap((f) => readFileSync(join(LOGHUB_DIR, f), 'utf8').split('\n').filter((l) => l !== '').slice(0, 300)) : []),
      'ERROR   tabs\tand  runs of   spaces',
      'user "alice smith" failed at 2024-01-02T03:04:05Z from 10.0.0.1:5432',
      '   ',
      '',
      `long ${'x1 '.repeat(200)}`,
    ];
    const direct = new TemplateMiner({ maxTokens: 16 });
    const masked = new TemplateMiner({ maxTokens: 16 });
    for (const l of lines) {
      expect(direct.add(l)).toBe(masked.addMasked(maskLine(l), l));
    }
    expect(masked.top(10_000)).toEqual(direct.top(10_000));
    expect(direct.size).toBeGreaterThan(hasShared() ? 20 : 3);
  });
});

describe('ErrorLineClassifier', () => {
  const c = new ErrorLineClassifier();
  it.each([
    ['2024-01-01 ERROR [main] boom', true],
    ['E1123 12:34:56.789012   1 reflector.go:138] watch failed', true],
    ['level=error msg="x"', true],
    ['java.lang.NullPointerException at Foo.bar', true],
    ['raise IOError', true],
    ['dial tcp: connection refused', true],
    ['request timed out after 5s', true],
    ['cannot open file', true],
    ['INFO all good, 0 items', false],
    ['terrorist of the errand', false],
  ])('%s → %s', (line, expected) => {
    expect(c.test(line)).toBe(expected);
  });
  it('reads the level of a JSON log, and takes configured levels and keywords', () => {
    expect(c.test('plain text', { level: 'error' })).toBe(true);
    expect(c.test('plain text', { severity: 'INFO' })).toBe(false);
    const custom = new ErrorLineClassifier({ levels: ['BAD'], keywords: ['oops'] });
    expect(custom.test('BAD thing')).toBe(true);
    expect(custom.test('Oops, again')).toBe(true);
    expect(custom.test('ERROR thing')).toBe(false);
  });
});

describe('draftRecord', () => {
  it('escapes literals, generalizes variables, trims variable edges; the regex matches every line of the template', () => {
    const lines = ['2024-01-02 10:00:01 worker[12]: Failed to connect to db-1 (10.0.0.1:5432): connection refused', '2024-01-02 10:00:09 worker[13]: Failed to connect to cache (10.0.0.2:6379): connection refused'];
    const m = new TemplateMiner();
    for (const l of lines) m.add(l);
    const draft = draftRecord(m.top(1)[0]!)!;
    expect(draft.regex).toBe('worker\\[-?\\d+(?:[.,:]\\d+)*\\]:\\s+Failed\\s+to\\s+connect\\s+to\\s+\\S+\\s+\\(\\d{1,3}(?:\\.\\d{1,3}){3}(?::\\d+)?\\):\\s+connection\\s+refused');
    for (const l of lines) expect(new RegExp(draft.regex, 'i').test(l)).toBe(true);
    expect(draft.signature).toBe('worker[12]: Failed to connect to db-1 (10.0.0.1:5432): connection refused');
    expect(draft).toMatchObject({ domain: 'unknown', category: 'network_error', evidence_count: 2, tags: ['draft'] });
    expect(draft.id).toMatch(/^draft\/unknown\/worker-failed-to-connect-to-[0-9a-f]{8}$/);
    expect(draft.root_cause).toMatch(/^TODO/);
    expect(RecordSchema.safeParse(draft).success).toBe(true);
  });

  it('is null for a template with no literal token', () => {
    const m = new TemplateMiner();
    m.add('12 34 0xff');
    expect(draftRecord(m.top(1)[0]!)).toBeNull();
  });

  it('drafts compile, and match their examples and signatures with the real matcher', async () => {
    const miner = new UnmatchedMiner({ fields: ['message'], format: 'auto' });
    miner.observe([
      'ERROR [pool-3] java.net.SocketTimeoutException: Read timed out after 3000ms',
      'ERROR [pool-7] java.net.SocketTimeoutException: Read timed out after 5000ms',
      '{"level":"error","message":"payment 8812 declined: card expired"}',
      'INFO nothing to see',
    ]);
    expect([miner.seen, miner.errorLines, miner.templates]).toEqual([4, 3, 2]);
    const drafts = miner.top(10).map((s) => s.draft!);
    const kb = new KnowledgeBase(drafts.map((d, i) => ({ record: RecordSchema.parse(d), file: 'drafts', line: i + 1 })));
    const matcher = await Matcher.create(kb, { cacheDir: null });
    expect(matcher.info.patterns.rejected).toBe(0);
    const texts = drafts.flatMap((d) => [d.signature, ...d.examples.match]);
    expect(matcher.scan(texts).map((r) => r.length > 0)).toEqual(texts.map(() => true));
    expect(drafts.map((d) => d.domain)).toEqual(['java', 'unknown']);
  });

  it('skips what the pipeline dead-letters (not JSON under format json); an empty report is empty', () => {
    const miner = new UnmatchedMiner({ fields: ['message'], format: 'json' });
    expect(miner.observe(['ERROR not json', '{"message":"ERROR in json"}'])).toBe(1);
    expect([miner.seen, miner.errorLines]).toEqual([2, 1]);
    expect(formatSuggestions([])).toBe('');
  });

  it('bounds the work on a huge message: only its first MAX_MINED_CHARS are classified and mined', () => {
    const miner = new UnmatchedMiner({ fields: ['message'], format: 'raw' });
    expect(miner.observe([`${'x '.repeat(MAX_MINED_CHARS)}ERROR late`, `ERROR early ${'y '.repeat(MAX_MINED_CHARS)}`])).toBe(1);
    const [t] = miner.top(1);
    expect(t!.tokens).toHaveLength(64);
    expect(t!.example.length).toBe(500);
  });
});

describe('mining selected where the chunk is enriched (the daemon)', () => {
  it('mines what observe() mines from the raw values: same counts, same templates', async () => {
    const kb = kbOf(record('net/refused', 'connection refused'));
    const matcher = await Matcher.create(kb, { cacheDir: null });
    try {
      const fields = ['message', 'msg'];
      const enricher = new Enricher(kb, matcher, { fields, format: 'auto' });
      const raws = [
        ...(hasShared() ? readdirSync(LOGHUB_DIR).flatMap((f) => readFileSync(join(LOGHUB_DIR, f), 'utf8').split('\n').filter((l) => l !== '').slice(0, 200)) : []),
        'ERROR disk /dev/sda1 full',
        '{"level":"error","msg":"worker 7 lost"}',
        '{"level":"info","msg":"ERROR in the text"}',
        '{"level":"info","msg":"all good"}',
        'dial tcp 10.0.0.1:5432: connection refused',
        `ERROR early ${'y '.repeat(MAX_MINED_CHARS)}`,
      ];
      const whole = new UnmatchedMiner({ fields, format: 'auto' });
      const split = new UnmatchedMiner({ fields, format: 'auto' });
      const selector = new ErrorTextSelector();
      const messages = raws.map((r, i) => ({ topic: 'in', partition: 0, offset: String(i), timestamp: null, key: null, value: Buffer.from(r), headers: {} }));
      const chunk = enrichChunk(messages, enricher, { outputTopic: 'out', unmatchedTopic: null, dlqTopic: 'dlq', key: 'input', format: 'auto', fields, maxMessageBytes: 1 << 20 }, false, (t, log) => selector.select(t, log));
      const unmatched = chunk.items.filter((i) => !i.matched);
      whole.observe(unmatched.map((i) => raws[i.owner]!));
      split.addSelected(unmatched.length, unmatched.flatMap((i) => (i.mined === undefined ? [] : [i.mined])));
      expect(split.errorLines).toBeGreaterThan(4);
      expect(split.view(1000)).toEqual(whole.view(1000));
    } finally {
      matcher.close();
    }
  });
});

describe('suggest config', () => {
  it('has documented defaults and validates', () => {
    const base = { kafka: { brokers: ['k:9092'] }, input: { topics: ['a'] }, output: { topic: 'b' } };
    const c = ConfigSchema.parse(base);
    expect(c.suggest).toMatchObject({ enabled: true, maxClusters: 1000, similarity: 0.4 });
    expect(c.suggest.levels).toContain('ERROR');
    expect(ConfigSchema.safeParse({ ...base, suggest: { similarity: 0 } }).success).toBe(false);
  });
});

describe('logsift kb suggest / scan --suggest', () => {
  const input = [
    'INFO service started',
    '2024-05-01T10:00:00Z ERROR db: connection to 10.0.0.5:5432 refused (retry 1)',
    '2024-05-01T10:00:02Z ERROR db: connection to 10.0.0.6:5432 refused (retry 2)',
    '2024-05-01T10:00:04Z ERROR db: connection to 10.0.0.7:5432 refused (retry 3)',
    '2024-05-01T10:00:05Z WARN cache: unable to load "user profile" from /srv/cache/u.bin',
    'E0501 10:00:06.123456    7 controller.go:42] sync failed: etcdserver: request timed out',
    '2024-05-01T10:00:07Z ERROR FATAL: too many clients already',
  ].join('\n');

  it('prints templates with counts and examples; --format records gives drafts that kb check accepts', async () => {
    const dir = await tempDir();
    const file = join(dir, 'app.log');
    await writeFile(file, `${input}\n`);
    const kb = join(dir, 'kb.jsonl');
    await writeFile(kb, `${JSON.stringify({ id: 'pg/too-many', regex: 'too many clients', signature: 'FATAL: too many clients already', domain: 'database', category: 'resource_error', root_cause: 'connection limit' })}\n`);
    const text = await runCli(['kb', 'suggest', '--kb', kb, '--input', file, '--no-cache']);
    expect(text.code).toBe(0);
    // The starter KB matches "too many clients": only the three other templates are unmatched.
    expect(text.stdout).toMatch(/^5 unmatched error line\(s\) of 6 unmatched, 3 template\(s\); top 3:/);
    expect(text.stdout).toMatch(/^#1 {2}3 line\(s\) {2}<TIME> ERROR db: connection to <IP> refused \(retry <NUM>\)$/m);
    const records = await runCli(['kb', 'suggest', '--kb', kb, '--input', file, '--format', 'records', '--no-cache']);
    const kbFile = join(dir, 'drafts.jsonl');
    await writeFile(kbFile, records.stdout);
    expect(records.stdout.trim().split('\n')).toHaveLength(3);
    const check = await runCli(['kb', 'check', '--kb', kbFile]);
    expect(check.stdout).toMatch(/3 records, kb-[0-9a-f]+: native 3, prefilter 0, fallback 0, rejected 0, invalid 0/);
    expect(check.code).toBe(0);
    const lint = await runCli(['kb', 'lint', '--kb', kbFile, '--no-cache']);
    expect(lint.stdout).not.toMatch(/self-miss/);
    const json = JSON.parse((await runCli(['kb', 'suggest', '--kb', kb, '--input', file, '--format', 'json', '--top', '1', '--no-cache'])).stdout) as { top: unknown[]; templates: number };
    expect([json.top.length, json.templates]).toEqual([1, 3]);
    expect((await readFile(kbFile, 'utf8')).length).toBeGreaterThan(0);
    expect((await runCli(['kb', 'suggest', '--no-cache'])).code).toBe(2);
    expect((await runCli(['kb', 'suggest', '--input', file, '--format', 'yaml'])).code).toBe(2);
  });

  it('scan --suggest mines the same on worker threads as on one thread', async () => {
    const copies = Math.ceil((2 * POOL_AFTER_LINES) / 7);
    const big = `${Array.from({ length: copies }, () => input).join('\n')}\n`;
    const args = ['scan', '--suggest', '--top', '5', '--cache-dir', TEST_CACHE_DIR, '--batch-size', '64'];
    const one = await runCli([...args, '--threads', '1'], big);
    const two = await runCli([...args, '--threads', '2'], big);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    // The report after the summary: counts, templates, examples and drafts.
    const head = `logsift: ${6 * copies} unmatched error line(s), 4 template(s)`;
    const report = (t: string): string => t.slice(t.indexOf(head));
    expect(one.stderr).toContain(head);
    expect(report(two.stderr)).toBe(report(one.stderr));
  });

  it('scan --suggest prints the templates on stderr after the summary', async () => {
    const r = await runCli(['scan', '--suggest', '--top', '2', '--no-cache'], `${input}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/logsift: 6 unmatched error line\(s\), 4 template\(s\); top 2 with draft records:\n#1 {2}3 line\(s\)/);
    expect(r.stderr).toMatch(/#2 .*\n {4}e\.g\. .*\n {4}draft: \{"id":"draft\//);
  });
});
