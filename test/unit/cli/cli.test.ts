import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../../helpers/cli.js';
import { STARTER_KB, TEST_CACHE_DIR } from '../../helpers/shared.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logsift-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = ['--kb', STARTER_KB, '--cache-dir', TEST_CACHE_DIR];

describe('logsift scan', () => {
  it('writes one event per matched line, in input order, and a summary on stderr', async () => {
    const input = ['all good', 'FATAL:  sorry, too many clients already', 'fine', '{"level":"error","msg":"fatal error: concurrent map writes"}'].join('\n');
    const r = await runCli(['scan', ...base], input);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { signature_id: string; source: { line: number }; log: unknown });
    expect(events.map((e) => [e.source.line, e.signature_id])).toEqual([
      [2, 'postgresql/too-many-clients'],
      [4, 'go/concurrent-map-writes'],
    ]);
    expect(events[1]!.log).toEqual({ level: 'error', msg: 'fatal error: concurrent map writes' });
    expect(r.stderr).toMatch(/4 lines in .* 2 matched \(50\.0%\), 0 only weakly .*, 0 skipped/);
    expect(r.stderr).toMatch(/top signatures/);
  });

  it('--emit all gives one event per input line, unmatched too', async () => {
    const r = await runCli(['scan', ...base, '--emit', 'all'], 'a\nb\nLast State: Terminated, Reason: OOMKilled, Exit Code: 137\n');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { signature_id: string | null });
    expect(events.map((e) => e.signature_id)).toEqual([null, null, 'kubernetes/oomkilled']);
  });

  it('reports invalid UTF-8 and over-long lines with file:line and goes on', async () => {
    const file = join(dir, 'bad.log');
    const long = 'x'.repeat(10 * 1024 * 1024);
    await writeFile(file, Buffer.concat([Buffer.from('OOMKilled\nbad \xff\n'.replace('\xff', ''), 'utf8'), Buffer.from([0x62, 0x61, 0x64, 0x20, 0xff, 0x0a]), Buffer.from(`${long}\nfatal error: concurrent map writes\n`)]));
    const r = await runCli(['scan', ...base, '--input', file, '--emit', 'all']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${file}:3: invalid UTF-8 at byte 4; line skipped`);
    expect(r.stderr).toMatch(new RegExp(`${file}:4: line is 10485760 bytes, over the 1048576-byte limit`));
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { schema: string; source: { line: number }; error?: { code: string } });
    expect(out.map((e) => [e.source.line, e.schema, e.error?.code ?? null])).toEqual([
      [1, 'logsift.event/v1', null],
      [2, 'logsift.event/v1', null],
      [3, 'logsift.error/v1', 'LOGSIFT_INVALID_UTF8'],
      [4, 'logsift.error/v1', 'LOGSIFT_MESSAGE_TOO_LARGE'],
      [5, 'logsift.event/v1', null],
    ]);
    expect(r.stderr).toMatch(/5 lines .* 2 skipped/);
  });

  it('fails clearly on an unreadable input file', async () => {
    const r = await runCli(['scan', ...base, '--input', join(dir, 'missing.log')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ENOENT|no such file/);
  });

  it('rejects bad flags with usage and exit 2', async () => {
    const r = await runCli(['scan', '--emit', 'some']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--emit must be one of matched, all/);
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('prints a readable text format', async () => {
    const r = await runCli(['scan', ...base, '--format', 'text'], 'panic: runtime error: index out of range [5] with length 3\n');
    expect(r.stdout).toMatch(/^1\tgo\/index-out-of-range\n\troot cause: .*\n\tworkarounds: go\/index-out-of-range#w1\n$/);
  });
});

describe('logsift kb', () => {
  it('check classifies the starter KB and exits 0', async () => {
    const r = await runCli(['kb', 'check', '--kb', STARTER_KB]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/native \d+, prefilter 0, fallback 0, rejected 0, invalid 0/);
  });

  it('check names invalid and rejected records and exits 1', async () => {
    const file = join(dir, 'kb.jsonl');
    const rec = (id: string, regex: string) => JSON.stringify({ id, signature: id, regex, domain: 'd', category: 'c', root_cause: 'r' });
    await writeFile(file, [rec('good', 'boom'), rec('bad-regex', 'a(b'), '{"id":"no-fields"}', rec('look', '(?<=x)y')].join('\n'));
    const r = await runCli(['kb', 'check', '--kb', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`invalid${' '.repeat(3)}${file}:3: signature:`);
    expect(r.stdout).toMatch(/rejected {2}bad-regex \(.*kb\.jsonl:2\): invalid Python regex: missing \), unterminated subpattern at position 1/);
    expect(r.stdout).toMatch(/prefilter look \(.*:4\): Hyperscan: .*confirmed by the exact engine/);
    expect(r.stdout).toMatch(/3 records, kb-[0-9a-f]+: native 1, prefilter 1, fallback 0, rejected 1, invalid 1/);
  });

  it('import converts canons to seed-format JSON Lines', async () => {
    const file = join(dir, 'canon.jsonl');
    await writeFile(file, JSON.stringify({ id: 'x/y', error: { signature: 's', regex: 'r', domain: 'd', category: 'c' }, verdict: { summary: 'why', confidence: 0.5 }, workarounds: [{ action: 'do' }] }));
    const r = await runCli(['kb', 'import', file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'x/y', regex: 'r', root_cause: 'why', confidence: 0.5, workarounds: [{ action: 'do', how: 'do' }] });
  });
});

describe('logsift scan --http-port', () => {
  it('serves the hardened HTTP server while it scans: malformed requests get a 4xx, /healthz answers', async () => {
    const { PassThrough } = await import('node:stream');
    const { main } = await import('../../../src/cli/main.js');
    const { rawRequest } = await import('../../helpers/http.js');
    const { waitFor } = await import('../../helpers/wait.js');
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    stdout.resume();
    let stderr = '';
    const done = main(['scan', ...base, '--http-port', '0'], { out: () => undefined, err: (t) => void (stderr += t), stdout, stdin });
    stdin.write('FATAL:  sorry, too many clients already\n');
    const port = Number(await waitFor(() => /127\.0\.0\.1:(\d+)\/metrics/.exec(stderr)?.[1], 'the scan to serve HTTP', 60_000));
    expect((await rawRequest(port, ['GET // HTTP/1.1\r\nhost: x\r\n\r\n'])).status).toBe(404);
    expect((await rawRequest(port, ['GET http://x/metrics HTTP/1.1\r\nhost: x\r\n\r\n'])).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    stdin.end();
    expect(await done).toBe(0);
    expect(stderr).toMatch(/1 lines in .* 1 matched/);
  });
});
