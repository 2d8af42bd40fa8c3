import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/index.js';
import { KbFilter, filterReport, filterTermProblem, loadKnowledgeBase, type LoadedRecord } from '../../../src/kb/index.js';
import { runCli } from '../../helpers/cli.js';
import { record } from '../../helpers/kb.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-filter');

const loaded = (id: string, domain: string, category: string): LoadedRecord => ({ record: record(id, 'x', { domain, category }), file: 'kb.jsonl', line: 1 });
const records = [
  loaded('python/import-error', 'python', 'module_error'),
  loaded('python/recursion', 'python', 'runtime_error'),
  loaded('docker/no-space', 'docker', 'resource_error'),
  loaded('culture/tiananmen-1989-publicly/cn', 'culture', 'political_violation'),
  loaded('visa/eta-il-required-2025/il', 'visa', 'administrative_barrier'),
];
const ids = (l: readonly LoadedRecord[]): string[] => l.map((r) => r.record.id);

describe('KbFilter', () => {
  it('keeps everything without terms', () => {
    const f = new KbFilter({});
    expect(f.empty).toBe(true);
    expect(ids(f.apply(records).kept)).toEqual(ids(records));
  });

  it('include keeps records matching any term; exclude wins; globs cross "/" and ignore case', () => {
    const f = new KbFilter({ include: ['domain:python', 'category:*_ERROR'], exclude: ['id:python/rec*'] });
    const { kept, dropped } = f.apply(records);
    expect(ids(kept)).toEqual(['python/import-error', 'docker/no-space']);
    expect(dropped.map((d) => [d.loaded.record.id, d.reason])).toEqual([
      ['python/recursion', 'exclude id:python/rec*'],
      ['culture/tiananmen-1989-publicly/cn', 'not included'],
      ['visa/eta-il-required-2025/il', 'not included'],
    ]);
    expect(f.describe()).toBe('include domain:python, category:*_ERROR; exclude id:python/rec*');
  });

  it('exclude alone drops whole domains; `?` is one character; dots are literal', () => {
    expect(ids(new KbFilter({ exclude: ['id:culture/*', 'domain:vis?'] }).apply(records).kept)).toEqual(['python/import-error', 'python/recursion', 'docker/no-space']);
    expect(ids(new KbFilter({ include: ['domain:p.thon'] }).apply(records).kept)).toEqual([]);
  });

  it('rejects terms without a known field', () => {
    expect(filterTermProblem('python')).toMatch(/not a filter term/);
    expect(filterTermProblem('tag:x')).toMatch(/not a filter term/);
    expect(filterTermProblem('domain:')).toMatch(/not a filter term/);
    expect(filterTermProblem(' domain:x ')).toBeNull();
    expect(() => new KbFilter({ include: ['python'] })).toThrow(/not a filter term/);
  });

  it('reports kept and dropped counts by domain and reason', () => {
    const { kept, dropped } = new KbFilter({ exclude: ['domain:python', 'id:culture/*'] }).apply(records);
    expect(filterReport(kept, dropped)).toEqual({
      kept: [
        { domain: 'docker', count: 1 },
        { domain: 'visa', count: 1 },
      ],
      dropped: [
        { domain: 'python', reason: 'exclude domain:python', count: 2 },
        { domain: 'culture', reason: 'exclude id:culture/*', count: 1 },
      ],
    });
  });
});

async function kbFile(dir: string): Promise<string> {
  const file = join(dir, 'kb.jsonl');
  const line = (id: string, domain: string, regex: string): string => JSON.stringify({ id, regex, signature: regex, domain, category: 'runtime_error', root_cause: 'r' });
  await writeFile(file, [line('python/a', 'python', 'ImportError'), line('python/b', 'python', 'RecursionError'), line('visa/c', 'visa', 'visa required')].join('\n'));
  return file;
}

describe('filters at load time and in the CLI', () => {
  it('loadKnowledgeBase applies the filter and returns what it dropped; dropping all is an error', async () => {
    const file = await kbFile(await tempDir());
    const { kb, dropped } = await loadKnowledgeBase([file], { filter: { exclude: ['domain:visa'] } });
    expect(kb.records.map((r) => r.id)).toEqual(['python/a', 'python/b']);
    expect(dropped.map((d) => d.loaded.record.id)).toEqual(['visa/c']);
    await expect(loadKnowledgeBase([file], { filter: { include: ['domain:go'] } })).rejects.toMatchObject({ code: 'LOGSIFT_KB_EMPTY', message: expect.stringMatching(/dropped all 3 records/) as unknown });
  });

  it('kb check shows what the filter keeps and drops', async () => {
    const file = await kbFile(await tempDir());
    const r = await runCli(['kb', 'check', '--kb', file, '--include', 'domain:python', '--exclude', 'id:python/b']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('filter (include domain:python; exclude id:python/b): kept 1 of 3 records, dropped 2\n');
    expect(r.stdout).toContain('kept      python: 1\n');
    expect(r.stdout).toContain('dropped   python: 1 (exclude id:python/b)\n');
    expect(r.stdout).toContain('dropped   visa: 1 (not included)\n');
    expect(r.stdout).toMatch(/^1 records, kb-/m);
    const none = await runCli(['kb', 'check', '--kb', file, '--include', 'domain:go']);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('the filter keeps no record');
    expect((await runCli(['kb', 'check', '--kb', file, '--include', 'python'])).code).toBe(2);
  });

  it('scan takes --exclude, or $LOGSIFT_KB_EXCLUDE, and reports the dropped count', async () => {
    const file = await kbFile(await tempDir());
    const flag = await runCli(['scan', '--kb', file, '--exclude', 'domain:visa', '--no-cache'], 'visa required\nImportError: x\n');
    expect(flag.stderr).toContain('logsift: dropped 1 record(s) (kb filter)');
    expect(flag.stdout.trim().split('\n')).toHaveLength(1);
    process.env['LOGSIFT_KB_EXCLUDE'] = 'domain:python';
    try {
      const env = await runCli(['scan', '--kb', file, '--no-cache'], 'visa required\nImportError: x\n');
      expect(env.stderr).toContain('logsift: dropped 2 record(s) (kb filter)');
      expect(JSON.parse(env.stdout.trim()).signature_id).toBe('visa/c');
    } finally {
      delete process.env['LOGSIFT_KB_EXCLUDE'];
    }
  });

  it('config: kb.include/kb.exclude from env are validated terms', () => {
    const env = { LOGSIFT_KAFKA_BROKERS: 'k:9092', LOGSIFT_INPUT_TOPICS: 'in', LOGSIFT_OUTPUT_TOPIC: 'out', LOGSIFT_KB_EXCLUDE: 'id:culture/*,domain:visa' };
    expect(loadConfig({ env }).kb.exclude).toEqual(['id:culture/*', 'domain:visa']);
    expect(() => loadConfig({ env: { ...env, LOGSIFT_KB_INCLUDE: 'python' } })).toThrow(/LOGSIFT_KB_INCLUDE.*not a filter term/);
    expect(() => loadConfig({ env: { ...env, LOGSIFT_KB_LINT_MAX_BACKGROUND_RATE: '0.01' } })).toThrow(/needs kb\.lint\.background/);
    expect(loadConfig({ env: { ...env, LOGSIFT_KB_LINT_MAX_BACKGROUND_RATE: '0.01', LOGSIFT_KB_LINT_BACKGROUND: 'a.log,b.log' } }).kb.lint).toEqual({ background: ['a.log', 'b.log'], maxBackgroundRate: 0.01 });
  });
});
