/** `npm run demo` as a user runs it: a short run prints live summaries with matches and leaves no process behind. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../helpers/shared.js';
import { waitFor } from '../helpers/wait.js';

function startDemo(seconds: number): { output: () => string; exit: Promise<number | null>; signal: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tools', 'demo', 'demo.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOGSIFT_DEMO_SECONDS: String(seconds), LOGSIFT_DEMO_RATE: '1000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { output: () => out, exit, signal: (s) => child.kill(s) };
}

/** The pids the demo reported for its broker and daemon, and whether any is still alive. */
function children(out: string): { pids: number[]; alive: number[] } {
  const pids = [...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  return { pids: [...new Set(pids)], alive };
}

describe('npm run demo', () => {
  it('streams into the mock broker, prints summaries with matched signatures, and ends by itself', async () => {
    const demo = startDemo(4);
    expect(await demo.exit).toBe(0);
    const out = demo.output();
    expect(out).toMatch(/metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
    const final = /final:\n\[\s*\d+ s\] produced (\d+) · scanned (\d+) \(\d+ msg\/s\) · matched (\d+) \(([\d.]+)%\) · events out (\d+)\n((?: {2}.*\n)+)/.exec(out);
    expect(final, out).not.toBeNull();
    const [, produced, scanned, matched, , eventsOut, top] = final!;
    expect(Number(produced)).toBeGreaterThan(0);
    expect(Number(scanned)).toBe(Number(produced));
    expect(Number(matched)).toBeGreaterThan(0);
    expect(Number(eventsOut)).toBe(Number(matched));
    // Top signatures: count, id, root cause, workaround ids.
    expect(top!.split('\n')[0]).toMatch(/^\s+\d+ {2}[a-z]+\/[\w-]+.* #w1/);
    const { pids, alive } = children(out);
    expect(pids).toHaveLength(2);
    expect(alive).toEqual([]);
  });

  it('stops the broker and the daemon on Ctrl-C (SIGINT)', async () => {
    const demo = startDemo(60);
    await waitFor(() => /\[\s*\d+ s\] produced/.test(demo.output()), 'the first summary', 90_000);
    demo.signal('SIGINT');
    expect(await demo.exit).toBe(130);
    expect(demo.output()).toMatch(/stopped the daemon \(pid \d+\) and the broker \(pid \d+\)/);
    const { pids, alive } = children(demo.output());
    expect(pids).toHaveLength(2);
    expect(alive).toEqual([]);
  });
});
