/**
 * Compression and event size on the real protocol: kcat produces zstd- and gzip-compressed input
 * batches (as a shipper configured so would), `logsift run` with `output.compression: zstd` and
 * `output.includeLog: false` reads them, and kcat (librdkafka, an independent zstd decoder) reads the
 * events back: one per line, without `log`.
 */
import { execFileSync, spawnSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type TestCluster } from '../helpers/broker.js';
import { DaemonProcess, unexpectedErrors } from '../helpers/daemon.js';
import { readAll } from '../helpers/kafka.js';
import { STARTER_KB } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

let cluster: TestCluster;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  cluster = await startCluster();
  cleanup.push(() => cluster.stop());
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  expect(unexpectedErrors()).toEqual([]);
});

describe('compressed input and output', () => {
  it('reads zstd and gzip batches, writes zstd events without `log`, loses nothing', async () => {
    const [input, output, dlq, group] = ['in', 'out', 'dlq', 'group'].map(randomName);
    await cluster.createTopic(input!, 2);
    await cluster.createTopic(output!, 2);
    await cluster.createTopic(dlq!, 1);
    const lines = Array.from({ length: 200 }, (_, i) => `${i}\x01FATAL: sorry, too many clients already (client ${i})`);
    // Half the input in zstd batches, half in gzip (kcat -z sets the producer's compression.codec).
    execFileSync('kcat', ['-P', '-b', cluster.bootstrap, '-t', input!, '-K', '\\x01', '-z', 'zstd'], { input: lines.slice(0, 100).join('\n') });
    execFileSync('kcat', ['-P', '-b', cluster.bootstrap, '-t', input!, '-K', '\\x01', '-z', 'gzip'], { input: lines.slice(100).join('\n') });

    const daemon = await DaemonProcess.start({
      brokers: cluster.brokers,
      input: input!,
      output: output!,
      group: group!,
      kb: [STARTER_KB],
      dlq: dlq!,
      env: { LOGSIFT_OUTPUT_COMPRESSION: 'zstd', LOGSIFT_OUTPUT_INCLUDE_LOG: 'false' },
    });
    cleanup.push(() => daemon.stop());
    const events = await waitFor(async () => {
      const all = await readAll(cluster.brokers, output!);
      return all.length >= lines.length ? all : null;
    }, 'an event for every line', 60_000, 500);
    expect(new Set(events.map((e) => e.key)).size).toBe(lines.length);
    for (const e of events) {
      const event = JSON.parse(e.value!) as Record<string, unknown>;
      expect(event['signature_id']).toBe('postgresql/too-many-clients');
      expect('log' in event).toBe(false);
    }
    expect(await readAll(cluster.brokers, dlq!)).toEqual([]);
    const r = spawnSync('kcat', ['-C', '-b', cluster.bootstrap, '-t', output!, '-o', 'beginning', '-e', '-q', '-d', 'msg,fetch'], { encoding: 'utf8' });
    // kcat's consumer debug names each fetched message set's codec.
    const enqueued = r.stderr.split('\n').filter((l) => / Enqueue \d+ message\(s\)/.test(l));
    expect(enqueued.length).toBeGreaterThan(0);
    for (const l of enqueued) expect(l).toMatch(/, zstd\)$/);
  });
});
