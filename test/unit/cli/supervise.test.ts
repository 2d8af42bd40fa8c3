/**
 * superviseDaemon takes the signals from the first moment, while startDaemon still runs (the KB
 * loading, the workers and listeners starting). The process-level behaviour (exit codes, logs) is in
 * test/integration/lifecycle.int.test.ts; here, what happens to a daemon whose start ends after a
 * signal, which a process cannot show (it has exited by then).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/index.js';
import { superviseDaemon, type RunningDaemon } from '../../../src/main.js';
import { createLogger } from '../../../src/telemetry/index.js';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const config = loadConfig({
  env: {},
  overrides: [
    { path: ['kafka', 'brokers'], value: ['127.0.0.1:9'], flag: '--brokers' },
    { path: ['input', 'topics'], value: ['in'], flag: '--input' },
    { path: ['input', 'groupId'], value: 'g', flag: '--group' },
    { path: ['output', 'topic'], value: 'out', flag: '--output' },
  ],
});
const logger = createLogger('silent');

interface Calls {
  start: number;
  reload: number;
  stop: number;
}

/** A daemon that records what the supervisor asks of it; Kafka "starts" only when told to. */
function fakeDaemon(): { running: RunningDaemon; calls: Calls } {
  const calls: Calls = { start: 0, reload: 0, stop: 0 };
  const never = new Promise<never>(() => undefined);
  const running = {
    daemon: { fatal: never },
    start: (abort?: AbortSignal) => {
      calls.start++;
      return new Promise<'aborted'>((resolve) => abort?.addEventListener('abort', () => resolve('aborted')));
    },
    reload: () => {
      calls.reload++;
      return Promise.resolve(true);
    },
    stop: () => {
      calls.stop++;
      return Promise.resolve();
    },
  } as unknown as RunningDaemon;
  return { running, calls };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const listeners = (): number[] => SIGNALS.map((s) => process.listenerCount(s));
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('superviseDaemon', () => {
  const before = listeners();
  afterEach(() => expect(listeners(), 'every handler released').toEqual(before));

  it('ends with 0 on SIGTERM before the daemon has started, and stops the daemon once its start returns', async () => {
    const start = deferred<RunningDaemon>();
    const supervised = superviseDaemon(start.promise, config, logger);
    expect(listeners()).toEqual(before.map((n) => n + 1));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await supervised).toBe(0);
    const { running, calls } = fakeDaemon();
    start.resolve(running);
    await settle();
    // Never started on Kafka; what the start brought up is closed.
    expect(calls).toEqual({ start: 0, reload: 0, stop: 1 });
  });

  it('keeps a SIGHUP sent while starting and reloads once the daemon runs; a SIGINT then stops it gracefully', async () => {
    const start = deferred<RunningDaemon>();
    const supervised = superviseDaemon(start.promise, config, logger);
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGHUP', 'SIGHUP');
    const { running, calls } = fakeDaemon();
    start.resolve(running);
    await settle();
    expect(calls).toEqual({ start: 1, reload: 1, stop: 0 });
    process.emit('SIGHUP', 'SIGHUP'); // after the start: a reload each time
    expect(calls.reload).toBe(2);
    process.emit('SIGINT', 'SIGINT');
    expect(await supervised).toBe(0);
    expect(calls.stop).toBe(1);
  });

  it('rejects with the start’s error when the start fails before any signal', async () => {
    const start = deferred<RunningDaemon>();
    const supervised = superviseDaemon(start.promise, config, logger);
    start.reject(new Error('no KB'));
    await expect(supervised).rejects.toThrow('no KB');
  });

  it('ends with 0 and leaves a start that fails after the signal unreported', async () => {
    const start = deferred<RunningDaemon>();
    const supervised = superviseDaemon(start.promise, config, logger);
    process.emit('SIGTERM', 'SIGTERM');
    start.reject(new Error('interrupted'));
    expect(await supervised).toBe(0);
  });
});
