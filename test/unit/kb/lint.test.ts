import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { LogsiftError, ErrorCodes } from '../../../src/errors.js';
import type { KnowledgeBase } from '../../../src/kb/index.js';
import { formatLintText, lintKnowledgeBase, type LintFinding, type LintReport } from '../../../src/kb/lint.js';
import { Matcher } from '../../../src/matcher/index.js';
import { runCli } from '../../helpers/cli.js';
import { kbOf, record } from '../../helpers/kb.js';
import { DEADENDS_RECORDS, LOGHUB_DIR, TEST_CACHE_DIR, hasShared } from '../../helpers/shared.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-lint');

async function lint(kb: KnowledgeBase, background: string[], extra: { invalid?: LogsiftError[]; extra?: LintFinding[]; maxBackgroundRate?: number } = {}): Promise<LintReport> {
  const matcher = await Matcher.create(kb, { cacheDir: null });
  const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'raw' });
  return lintKnowledgeBase({
    kb,
    matcher,
    background,
    rank: (text) => enricher.rankText(text).map((m) => m.index),
    ...(extra.invalid ? { invalid: extra.invalid } : {}),
    ...(extra.extra ? { extra: extra.extra } : {}),
    options: { maxBackgroundRate: extra.maxBackgroundRate ?? 0.25 },
  });
}

const of = (report: LintReport, kind: string): LintFinding[] => report.findings.filter((f) => f.kind === kind);

describe('kb lint findings on hand-made KBs', () => {
  it('broad: a regex matching more than the share of background lines, with example lines', async () => {
    const kb = kbOf(record('wide/info', 'info', { signature: 'info level' }), record('narrow/oom', 'out of memory', { signature: 'out of memory' }));
    const background = ['INFO starting', 'INFO ready', 'DEBUG tick', 'WARN slow disk', 'INFO done'];
    const report = await lint(kb, background, { maxBackgroundRate: 0.5 });
    const broad = of(report, 'broad');
    expect(broad.map((f) => f.id)).toEqual(['wide/info']);
    expect(broad[0]!.severity).toBe('warning');
    expect(broad[0]!.evidence).toMatchObject({ matched_lines: 3, background_lines: 5, rate: 0.6, examples: ['INFO starting', 'INFO ready', 'INFO done'] });
    // At exactly the limit a record is not broad.
    expect(of(await lint(kb, background, { maxBackgroundRate: 0.6 }), 'broad')).toEqual([]);
    expect(report.errors).toBe(0);
  });

  it('self-miss: the signature is not matched by the record\'s own regex', async () => {
    const kb = kbOf(record('a/miss', 'disk full', { signature: 'No space left on device' }), record('b/hit', 'no space', { signature: 'No space left' }));
    const report = await lint(kb, []);
    expect(of(report, 'self-miss').map((f) => [f.id, f.evidence['signature']])).toEqual([['a/miss', 'No space left on device']]);
  });

  it('duplicate: the same regex, or the same signature up to case and spaces, under other ids', async () => {
    const kb = kbOf(
      record('x/one', 'connection refused', { signature: 'Connection refused' }),
      record('x/two', 'connection refused', { signature: 'refused by peer' }),
      record('y/three', 'peer refused', { signature: 'REFUSED   by peer' }),
    );
    const dup = of(await lint(kb, []), 'duplicate');
    expect(dup.map((f) => [f.id, f.evidence['same'], f.evidence['ids']])).toEqual([
      ['x/one', 'regex', ['x/two']],
      ['x/two', 'regex', ['x/one']],
      ['x/two', 'signature', ['y/three']],
      ['y/three', 'signature', ['x/two']],
    ]);
  });

  it('shadowed: every corpus text it matches, a higher-ranked record matches too', async () => {
    // `refused` only ever matches where `connection refused` also matches, and there the two
    // signatures score the same, so the higher confidence ranks first.
    const kb = kbOf(
      record('net/conn-refused', 'connection refused', { signature: 'connection refused', confidence: 0.9 }),
      record('net/refused', 'refused', { signature: 'Connection Refused', confidence: 0.5 }),
      record('net/reset', 'reset', { signature: 'connection reset' }),
    );
    const report = await lint(kb, ['dial tcp 10.0.0.1:80: connect: connection refused', 'ok']);
    const sh = of(report, 'shadowed');
    expect(sh.map((f) => [f.id, f.evidence['shadowed_by']])).toEqual([['net/refused', ['net/conn-refused']]]);
    expect(sh[0]!.evidence['texts']).toBe(3);
    // One text where it is the only match clears it.
    expect(of(await lint(kb, ['request refused by policy']), 'shadowed')).toEqual([]);
  });

  it('empty and rejected: errors, as kb check reports them; invalid records too; extra findings merged', async () => {
    const kb = kbOf(record('e/empty', 'a*', { signature: 'aaa' }), record('r/bad', '(unclosed', { signature: 'x' }), record('ok/fine', 'fine', { signature: 'fine' }));
    const invalid = [new LogsiftError(ErrorCodes.KB_RECORD_INVALID, 'Invalid input', { file: 'kb.jsonl', line: 3, field: 'regex' })];
    const redos: LintFinding = { id: 'ok/fine', kind: 'redos', severity: 'warning', message: 'nested quantifier', evidence: {} };
    const report = await lint(kb, [], { invalid, extra: [redos] });
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => [f.kind, f.id])).toEqual([
      ['empty', 'e/empty'],
      ['invalid', 'kb.jsonl:3: regex'],
      ['rejected', 'r/bad'],
    ]);
    expect(report.errors).toBe(3);
    expect(of(report, 'redos')).toEqual([redos]);
    // Rejected records are not also reported as self-miss.
    expect(of(report, 'self-miss')).toEqual([]);
    const text = formatLintText(report);
    expect(text).toMatch(/^error {3}empty {5}e\/empty: matches the empty string/m);
    expect(text).toMatch(/3 error\(s\), 1 warning\(s\)/);
  });
});

describe('logsift kb lint (CLI)', () => {
  it('exits 0 with warnings only, 1 with an error; JSON format', async () => {
    const dir = await tempDir();
    const file = join(dir, 'kb.jsonl');
    const bg = join(dir, 'bg.log');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(bg, 'INFO a\nINFO b\n\nERROR c\n');
    const rec = (id: string, regex: string, signature: string): string => JSON.stringify({ id, regex, signature, domain: 'd', category: 'c', root_cause: 'r' });
    await writeFile(file, `${rec('d/info', 'INFO', 'INFO line')}\n${rec('d/err', 'ERROR', 'ERROR line')}\n`);
    const warn = await runCli(['kb', 'lint', '--kb', file, '--background', bg, '--max-background-rate', '0.5', '--no-cache']);
    expect(warn.code).toBe(0);
    expect(warn.stdout).toMatch(/^warning broad {5}d\/info: matches 66\.67% of the background lines \(2 of 3;/m);
    const json = await runCli(['kb', 'lint', '--kb', file, '--background', bg, '--format', 'json', '--max-background-rate', '0.5', '--no-cache']);
    const parsed = JSON.parse(json.stdout) as { background_lines: number; findings: LintFinding[]; errors: number };
    expect(parsed.background_lines).toBe(3);
    expect(parsed.findings.map((f) => f.kind)).toEqual(['broad']);
    await writeFile(file, `${rec('d/info', 'INFO', 'INFO line')}\n${rec('d/empty', 'x?', 'x')}\n`);
    expect((await runCli(['kb', 'lint', '--kb', file, '--no-cache'])).code).toBe(1);
    expect((await runCli(['kb', 'lint', '--kb', file, '--format', 'xml'])).code).toBe(2);
    expect((await runCli(['kb', 'lint', '--kb', file, '--max-background-rate', '2'])).code).toBe(2);
  });

  it('reports duplicate ids (which fail every load) as errors', async () => {
    const dir = await tempDir();
    const file = join(dir, 'kb.jsonl');
    const { writeFile } = await import('node:fs/promises');
    const rec = JSON.stringify({ id: 'same', regex: 'x', signature: 'x', domain: 'd', category: 'c', root_cause: 'r' });
    await writeFile(file, `${rec}\n${rec}\n`);
    const r = await runCli(['kb', 'lint', '--kb', file, '--no-cache']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error {3}invalid {3}.*kb\.jsonl:2: id: duplicate record id "same"/m);
  });
});

describe.runIf(hasShared())('kb lint on the deadends.dev KB over the loghub lines', () => {
  it('names the broad records of the issue, and about 8% self-miss', async () => {
    const background = readdirSync(LOGHUB_DIR)
      .filter((f) => f.endsWith('.log'))
      .flatMap((f) => ['--background', join(LOGHUB_DIR, f)]);
    const r = await runCli(['kb', 'lint', '--kb', DEADENDS_RECORDS, ...background, '--format', 'json', '--cache-dir', TEST_CACHE_DIR]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { records: number; background_lines: number; findings: LintFinding[] };
    expect(report.background_lines).toBeGreaterThan(30_000);
    const broad = report.findings.filter((f) => f.kind === 'broad').map((f) => f.id);
    for (const id of ['culture/tiananmen-1989-publicly/cn', 'redis/moved-ask-redirect/redis7-linux', 'communication/email-spf-dkim-failure/smtp-linux', 'safety/cpr-common-mistakes/ai-agent-any']) {
      expect(broad).toContain(id);
    }
    // Broad is about the share: a handful of records, not the KB.
    expect(broad.length).toBeLessThan(20);
    const ex = report.findings.find((f) => f.id === 'communication/email-spf-dkim-failure/smtp-linux' && f.kind === 'broad')!.evidence['examples'] as string[];
    expect(ex.some((l) => /authentication failure/.test(l))).toBe(true);
    const selfMiss = report.findings.filter((f) => f.kind === 'self-miss').length / report.records;
    expect(selfMiss).toBeGreaterThan(0.07);
    expect(selfMiss).toBeLessThan(0.09);
  });
});
