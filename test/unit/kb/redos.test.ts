import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { checkRedos } from '../../../src/kb/index.js';
import { isLinearByConstruction } from '../../../src/matcher/index.js';
import { runCli } from '../../helpers/cli.js';
import { record } from '../../helpers/kb.js';
import { useTempDirs } from '../../helpers/temp.js';

const tempDir = useTempDirs('logsift-redos');

describe('checkRedos (recheck, pure JavaScript backend)', () => {
  it('shows a vulnerable regex with its attack string, and proves a literal safe', () => {
    const bad = checkRedos({ source: '(?=(a{1,}){1,}b)a', flags: 'iu' });
    expect(bad).toMatchObject({ status: 'vulnerable', complexity: 'exponential' });
    expect(bad.attack).toMatch(/'a'\.repeat\(\d+\)/);
    expect(checkRedos({ source: 'connection refused', flags: 'iu' })).toMatchObject({ status: 'safe' });
  }, 60_000);
});

describe('isLinearByConstruction (what runs inline, outside the worker)', () => {
  it('accepts quantifier-free regexes only', () => {
    expect(isLinearByConstruction('connection (refused|reset)')).toBe(true);
    expect(isLinearByConstruction('(?:a|b)[*+?{1}]\\*\\{2\\}(?=x)')).toBe(true);
    for (const s of ['a*', 'a+', 'a?', 'a{2}', 'a{1,}', '(a)\\1', '(?<n>a)\\k<n>', '[^\\n]{0,}']) expect(isLinearByConstruction(s)).toBe(false);
  });
});

describe('logsift kb check', () => {
  it('flags exact-engine records prone to backtracking with the attack string', async () => {
    const dir = await tempDir();
    const file = join(dir, 'kb.jsonl');
    await writeFile(file, [record('net/refused', 'connection refused'), record('redos/lookahead', '(?=(a+)+b)a')].map((r) => JSON.stringify(r)).join('\n'));
    const r = await runCli(['kb', 'check', '--kb', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^redos {5}redos\/lookahead \(.*kb\.jsonl:2\): exponential backtracking in the exact engine; attack string: .*'a'\.repeat\(\d+\)/m);
    expect(r.stdout).toContain('prefilter 1, fallback 0, rejected 0, invalid 0, redos 1');
  }, 60_000);
});
