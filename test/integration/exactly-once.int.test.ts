/**
 * Exactly-once delivery against the patched mock broker (test/integration/mock-broker-txn.int.test.ts
 * proves the broker keeps transactions). Every input message has exactly one outcome record: an event
 * (output), an unmatched event, or a dead letter, each carrying its input coordinates. A
 * read_committed reader of the three topics must find every input offset exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { loghubLines } from '../../bench/common.js';
import { MockCluster } from '../helpers/broker.js';
import { DaemonProcess, type DaemonOptions } from '../helpers/daemon.js';
import { deliveryReport, inputCoordinates, produce, readAll, type DeliveryReport, type InputRecord, type ReadRecord } from '../helpers/kafka.js';
import { readDevLines } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

const PARTITIONS = 4;

/** Loghub lines, an error line every third message, and a poison message (bad UTF-8) every 97th. */
function stream(n: number, from = 0): InputRecord[] {
  const background = loghubLines();
  const errors = readDevLines().filter((l) => l.source.length > 0).map((l) => l.line);
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    const value = i % 97 === 0 ? Buffer.from([0x62, 0x61, 0x64, 0x20, 0xc3, 0x28]) : i % 3 === 0 ? errors[i % errors.length]! : background[i % background.length]!;
    return { key: `k${i}`, value, partition: i % PARTITIONS };
  });
}

interface Run {
  cluster: MockCluster;
  topics: { input: string; output: string; unmatched: string; dlq: string };
  group: string;
  start(mode: 'exactly-once' | 'at-least-once', extra?: Partial<DaemonOptions>): Promise<DaemonProcess>;
  outcomes(isolation?: 'read_committed' | 'read_uncommitted'): Promise<ReadRecord[]>;
  expected(): Promise<Set<string>>;
  waitAll(timeoutMs?: number): Promise<DeliveryReport>;
}

async function setup(n: number): Promise<Run> {
  const cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  const topics = { input: randomName('in'), output: randomName('out'), unmatched: randomName('un'), dlq: randomName('dlq') };
  for (const t of Object.values(topics)) await cluster.createTopic(t, PARTITIONS);
  if (n > 0) await produce(cluster.brokers, topics.input, stream(n));
  const group = randomName('group');
  const run: Run = {
    cluster,
    topics,
    group,
    async start(mode, extra = {}) {
      const d = await DaemonProcess.start({
        brokers: cluster.brokers,
        input: topics.input,
        output: topics.output,
        unmatched: topics.unmatched,
        dlq: topics.dlq,
        group,
        ...extra,
        args: ['--delivery', mode, ...(extra.args ?? [])],
        // Small fetches and chunks: many transactions, so faults and kills land mid-stream.
        env: { LOGSIFT_DELIVERY_MAX_BYTES_PER_PARTITION: '32KiB', LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '50', LOGSIFT_LOG_LEVEL: 'info', ...extra.env },
      });
      cleanup.push(() => d.stop());
      return d;
    },
    async outcomes(isolation = 'read_committed') {
      const all = await Promise.all([topics.output, topics.unmatched, topics.dlq].map((t) => readAll(cluster.brokers, t, isolation)));
      return all.flat();
    },
    expected: () => inputCoordinates(cluster.brokers, topics.input),
    async waitAll(timeoutMs = 90_000) {
      const expected = await run.expected();
      return waitFor(async () => {
        const r = deliveryReport(expected, await run.outcomes());
        return r.lost.length === 0 ? r : null;
      }, 'an outcome for every input offset', timeoutMs, 300);
    },
  };
  return run;
}

function report(name: string, r: DeliveryReport, extra = ''): void {
  console.log(`[exactly-once] ${name}: expected ${r.expected}, delivered ${r.delivered}, lost ${r.lost.length}, duplicates ${r.duplicates}${extra}`);
}

function dumpLogs(d: DaemonProcess): void {
  for (const l of d.logs.filter((x) => x.level >= 40)) console.log(`  [${d.pid}] ${l.level} ${l.msg} ${JSON.stringify(l).slice(0, 300)}`);
}

/** Distinct input messages with a committed outcome (at-least-once duplicates count once). */
const committedCount = async (run: Run): Promise<number> => new Set((await run.outcomes()).map((e) => `${e.headers['logsift.source.partition']}:${e.headers['logsift.source.offset']}`)).size;

/**
 * A known stream flows in (fed in slices while the daemon keeps up) and the daemon is SIGKILLed
 * `kills` times, each time after a random amount of further progress, then restarted.
 */
async function killLoop(mode: 'exactly-once' | 'at-least-once', kills: number): Promise<DeliveryReport> {
  const total = 2400;
  const slice = 100;
  const run = await setup(4 * slice);
  // Round trips of 50 ms and a backlog of several slices: the daemon is always busy, and its
  // transactions take a while, so that kills land inside them.
  await run.cluster.command('rtt -1 50');
  let produced = 4 * slice;
  let feeding = true;
  let last = 0;
  let killed = false;
  // Until the last kill, the input stays at most two slices ahead of the last kill point (and short of
  // the end): however fast the daemon is, every kill is mid-stream and the next one has input to wait
  // for. (Gated on the daemon's progress alone, a fast daemon finished the stream before the sixth kill.)
  const mayFeed = (): boolean => killed || produced < Math.min(total - 4 * slice, last + 2 * slice);
  const feeder = (async () => {
    while (produced < total && feeding) {
      await waitFor(async () => !feeding || (mayFeed() && (await committedCount(run)) >= produced - 5 * slice), 'the daemon to keep up', 300_000, 200);
      if (!feeding) return;
      await produce(run.cluster.brokers, run.topics.input, stream(slice, produced));
      produced += slice;
    }
  })();
  cleanup.push(async () => {
    feeding = false;
    await feeder;
  });
  for (let k = 0; k < kills; k++) {
    const d = await run.start(mode);
    // Random points: after 20–150 more committed outcomes, wherever the daemon is in its transactions.
    const step = 20 + Math.floor(Math.random() * 130);
    last = await waitFor(async () => {
      const c = await committedCount(run);
      return c >= last + step ? c : null;
    }, `progress before kill ${k + 1} (${last} outcomes so far, ${produced} produced)`, 120_000, 50);
    d.kill('SIGKILL');
    expect(await d.wait()).toBe(-1);
  }
  expect(last).toBeLessThan(total); // every kill was mid-stream
  killed = true;
  await run.start(mode);
  await feeder;
  await run.cluster.command('rtt -1 0');
  const r = await run.waitAll();
  const uncommitted = deliveryReport(await run.expected(), await run.outcomes('read_uncommitted'));
  report(`${mode}, ${kills} SIGKILLs`, r, ` (read_uncommitted sees ${uncommitted.duplicates} duplicates)`);
  return r;
}

describe('exactly-once delivery', () => {
  it('SIGKILLed 6 times mid-stream: every input offset exactly once for read_committed readers', async () => {
    const r = await killLoop('exactly-once', 6);
    expect(r.expected).toBe(2400);
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(0);
  });

  it('for contrast, at-least-once under the same kills loses nothing and reports its duplicates', async () => {
    const r = await killLoop('at-least-once', 6);
    expect(r.lost).toEqual([]);
  });

  it('aborts and redoes chunks on injected AddPartitionsToTxn, TxnOffsetCommit and EndTxn errors', async () => {
    const run = await setup(200);
    // One partition in flight at a time, so each injected error hits one known transaction.
    const d = await run.start('exactly-once', { env: { LOGSIFT_DELIVERY_MAX_IN_FLIGHT_BATCHES: '1' } });
    const failures = () => d.logs.filter((l) => l.msg.startsWith('transaction failed')).length;
    const realigned = () => d.logs.filter((l) => l.msg.startsWith('resuming the partition')).length;
    await waitFor(async () => (await committedCount(run)) >= 200, 'the first messages');
    let produced = 200;
    /** Injects the faults, then feeds more input, so that the next transactions meet them. */
    const inject = async (command: string, name: string) => {
      const before = failures();
      await run.cluster.command(command);
      await produce(run.cluster.brokers, run.topics.input, stream(100, produced));
      produced += 100;
      await waitFor(() => failures() > before, `a failed transaction after ${name}`, 90_000).catch((err: unknown) => {
        dumpLogs(d);
        throw err;
      });
    };
    // UNKNOWN_SERVER_ERROR (-1) is not retriable: the transaction fails at that step and is abandoned.
    await inject('errors 24 -1', 'an AddPartitionsToTxn error');
    await inject('errors 28 -1', 'a TxnOffsetCommit error');
    await inject('errors 26 -1', 'an EndTxn error');
    // EndTxn whose connection drops after the broker committed (-195: the mock closes the connection
    // once it has handled the request), on every retry: the daemon sees a failure although the
    // transaction is committed, and must resume from the committed offset, not redo the chunk.
    await inject('errors 26 -195 -195 -195 -195 -195 -195', 'a lost EndTxn answer');
    const r = await run.waitAll();
    report('injected transaction errors', r, ` (${failures()} failed transactions, ${realigned()} realignments)`);
    expect(r.expected).toBe(produced);
    expect(realigned()).toBeGreaterThanOrEqual(4);
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(0);
  });

  it('survives the broker going down mid-transaction', async () => {
    const run = await setup(3000);
    // Slow round trips: a backlog remains when the broker goes down, and the outage lands inside
    // transactions.
    await run.cluster.command('rtt -1 100');
    const d = await run.start('exactly-once');
    await waitFor(async () => (await committedCount(run)) >= 200, 'some progress');
    await run.cluster.command('down -1');
    await waitFor(() => d.logs.some((l) => l.msg.startsWith('transaction failed')), 'a transaction to fail', 90_000);
    await run.cluster.command('up -1');
    await run.cluster.command('rtt -1 0');
    const r = await run.waitAll(120_000).catch((err: unknown) => {
      dumpLogs(d);
      throw err;
    });
    report('broker down mid-transaction', r);
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(0);
  });

  it('fences a stalled instance whose partitions another took over: the zombie commits nothing and exits 3', async () => {
    const run = await setup(1600);
    // The first transactions of the zombie-to-be wait 5 s for their AddOffsetsToTxn answers (the
    // broker handles them at once): windows in which it has records written and nothing committed.
    for (let i = 0; i < 2 * PARTITIONS; i++) await run.cluster.command('broker-errors 1 25 0 5000');
    const zombie = await run.start('exactly-once');
    const output = async (isolation: 'read_committed' | 'read_uncommitted') => (await readAll(run.cluster.brokers, run.topics.output, isolation)).length;
    await waitFor(async () => (await output('read_uncommitted')) > (await output('read_committed')), 'an open transaction with records', 60_000, 50).catch(async (err: unknown) => {
      dumpLogs(zombie);
      console.log(zombie.logs.slice(-30).map((l) => l.msg));
      console.log((await run.outcomes('read_uncommitted')).length, await committedCount(run));
      throw err;
    });
    zombie.kill('SIGSTOP');
    const successor = await run.start('exactly-once');
    const r = await run.waitAll(120_000).catch((err: unknown) => {
      dumpLogs(successor);
      throw err;
    });
    zombie.kill('SIGCONT');
    expect(await zombie.wait()).toBe(5);
    expect(zombie.logs.some((l) => l['code'] === 'LOGSIFT_FENCED')).toBe(true);
    const after = deliveryReport(await run.expected(), await run.outcomes());
    report('zombie fenced', after);
    expect(r.lost).toEqual([]);
    expect(after.duplicates).toBe(0);
  });
});
