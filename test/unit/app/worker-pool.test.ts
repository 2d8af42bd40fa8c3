/**
 * The worker pool under failure: a job that throws fails alone; a worker that dies fails its jobs
 * (for the caller to retry) and is replaced, and the replacement gets the Unicode parts already handed
 * out; a worker that cannot start fails the start.
 */
import { describe, expect, it } from 'vitest';

import { ThreadNames, WorkerPool, moduleWorker } from '../../../src/app/worker-pool.js';

/** A worker speaking the pool's protocol: 'throw' fails the job, 'exit' kills the thread, 'unicode' reports what it was given. */
const WORKER = new URL('../../helpers/pool-worker.mjs', import.meta.url);
const error = (message: string): Error => new Error(`test ${message}`);

describe('WorkerPool', () => {
  it('answers jobs, fails a throwing job alone, and replaces a dead worker', async () => {
    const replaced: string[] = [];
    const pool = await WorkerPool.start<string, string>({ threads: 1, spawn: () => moduleWorker(WORKER, { fail: false }, ThreadNames.enrich), error, onReplaced: (r) => replaced.push(r) });
    try {
      expect(await pool.run('a')).toBe('A');
      await expect(pool.run('throw')).rejects.toThrow('test boom');
      expect(await pool.run('b')).toBe('B');
      pool.attachUnicode([{ ids: [1, 2], bytes: Buffer.from('db') }]);
      expect(await pool.run('unicode')).toBe('1,2');
      await expect(pool.run('exit')).rejects.toThrow(/test worker exited with code 3/);
      expect(replaced).toHaveLength(1);
      // The replacement is up, and got the Unicode parts handed out before it existed.
      expect(await pool.run('c')).toBe('C');
      expect(await pool.run('unicode')).toBe('1,2');
    } finally {
      await pool.close();
    }
    await expect(pool.run('d')).rejects.toThrow(/closed/);
  });

  it('replaces a replacement that could not start, at the next job', async () => {
    const plan = [false, true, false];
    const pool = await WorkerPool.start<string, string>({ threads: 1, spawn: () => moduleWorker(WORKER, { fail: plan.shift() ?? false }, ThreadNames.enrich), error });
    try {
      await expect(pool.run('exit')).rejects.toThrow(/exited with code 3/);
      await expect(pool.run('a')).rejects.toThrow('test worker could not start: no KB');
      expect(await pool.run('b')).toBe('B');
    } finally {
      await pool.close();
    }
  });

  it('fails the start when a worker cannot build its state', async () => {
    await expect(WorkerPool.start<string, string>({ threads: 2, spawn: () => moduleWorker(WORKER, { fail: true }, ThreadNames.enrich), error })).rejects.toThrow('test worker could not start: no KB');
  });
});
