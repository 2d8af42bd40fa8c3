/**
 * The process-level policy, in a child process (vitest's own handlers would see the failures here):
 * an unhandled rejection is logged and counted and the process goes on; an uncaught exception is
 * logged, counted and ends the process with exit code 70.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../helpers/shared.js';

const exec = promisify(execFile);

/** Runs `body` with the guard installed; the child prints its metrics exposition on stdout. */
async function child(body: string, level = 'info'): Promise<{ code: number; stdout: string; stderrText: string; logs: { level: number; msg: string; code?: string; warning?: string }[] }> {
  const script = `
    import { installProcessGuard } from ${JSON.stringify(join(REPO_ROOT, 'src/cli/process-guard.ts'))};
    import { LogsiftMetrics, createLogger } from ${JSON.stringify(join(REPO_ROOT, 'src/telemetry/index.ts'))};
    const metrics = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
    const report = async () => process.stdout.write((await metrics.expose(false)).body);
    installProcessGuard({ logger: createLogger(${JSON.stringify(level)}), count: (s) => metrics.unexpectedError(s), exit: (code) => { void report().then(() => process.exit(code)); } });
    ${body}
  `;
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderrText: stderr, logs: lines(stderr) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderrText: e.stderr, logs: lines(e.stderr) };
  }
}
const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; code?: string; warning?: string });

describe('process guard', () => {
  it('logs and counts an unhandled rejection, and the process goes on', async () => {
    const r = await child(`
      void Promise.reject(new Error('forgotten promise'));
      setTimeout(() => void report().then(() => console.error('still alive')), 50);
    `);
    expect(r.code).toBe(0);
    expect(r.logs).toEqual([expect.objectContaining({ level: 50, code: 'LOGSIFT_UNEXPECTED', msg: expect.stringMatching(/unhandled promise rejection/) })]);
    expect(r.stdout).toContain('logsift_unexpected_errors_total{source="unhandled_rejection"} 1');
  });

  it('logs and counts an uncaught exception, and exits 70', async () => {
    const r = await child(`setTimeout(() => { throw new Error('broken invariant'); }, 0);`);
    expect(r.code).toBe(70);
    expect(r.logs).toEqual([expect.objectContaining({ level: 60, code: 'LOGSIFT_UNEXPECTED', msg: expect.stringMatching(/uncaught exception/) })]);
    expect(r.stdout).toContain('logsift_unexpected_errors_total{source="uncaught_exception"} 1');
  });

  it('logs Node warnings as JSON lines; the negative-timer warning (kafkajs) once, at debug level', async () => {
    const r = await child(`
      // What Node 24+ emits for kafkajs's negative throttle delay (emitted by hand: Node 22 does not).
      process.emitWarning('-1795470030614 is a negative number.', 'TimeoutNegativeWarning');
      process.emitWarning('-1795470030615 is a negative number.', 'TimeoutNegativeWarning');
      process.emitWarning('something odd', 'ExperimentalWarning');
      setTimeout(() => void report(), 50);
    `, 'debug');
    expect(r.code).toBe(0);
    expect(r.stderrText).not.toMatch(/^\(node:\d+\)/m);
    expect(r.logs.filter((l) => l.code === 'LOGSIFT_NODE_WARNING')).toEqual([
      expect.objectContaining({ level: 20, warning: 'TimeoutNegativeWarning' }),
      expect.objectContaining({ level: 40, warning: 'ExperimentalWarning', msg: 'Node warning: something odd' }),
    ]);
  });
});
