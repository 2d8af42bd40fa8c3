import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runCli } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/shared.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('logsift --version and --help', () => {
  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r).toEqual({ code: 0, stdout: `logsift ${pkg.version}\n`, stderr: '' });
    }
  });

  it.each([
    [['scan', '--help'], /^Usage: logsift scan /],
    [['run', '--help'], /^Usage: logsift run /],
    [['run', '--brokers', 'x:1', '-h'], /^Usage: logsift run /],
    [['kb', '--help'], /^Usage: logsift kb check\|lint\|suggest\|import\|compile/],
    [['kb', 'lint', '--help'], /^Usage: logsift kb lint /],
    [['kb', 'suggest', '--help'], /^Usage: logsift kb suggest /],
    [['kb', 'check', '--help'], /^Usage: logsift kb check /],
    [['kb', 'import', '--help'], /^Usage: logsift kb import FILE/],
    [['kb', 'compile', '--help'], /^Usage: logsift kb compile /],
    [['dlq', 'replay', '--help'], /^Usage: logsift dlq replay /],
    [['dlq', '--help'], /^Usage: logsift dlq replay /],
  ])('%j prints that command\'s usage and exits 0 without running it', async (argv, usage) => {
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stderr).toBe('');
  });

  it('documents every flag the command parses', async () => {
    const scan = (await runCli(['scan', '--help'])).stdout;
    for (const flag of ['--kb', '--input', '--emit', '--format', '--input-format', '--fields', '--case-sensitive', '--max-line-bytes', '--batch-size', '--cache-dir', '--no-cache', '--allow-invalid-records', '--http-port']) {
      expect(scan).toContain(flag);
    }
    const run = (await runCli(['run', '--help'])).stdout;
    for (const flag of ['--config', '--brokers', '--input', '--output', '--group', '--kb', '--delivery', '--dlq', '--unmatched', '--http-port', '--log-level']) {
      expect(run).toContain(flag);
    }
  });

  it('a --help after `--` is an argument, not a request for help', async () => {
    const r = await runCli(['kb', 'import', '--', '--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('an unknown command is still a usage error', async () => {
    const r = await runCli(['frobnicate', '--help']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
