/**
 * The daemon's at-least-once read-ahead (delivery.readAhead), driven through kafkajs's eachBatch with
 * a scripted client: batches return once queued, each partition's chunks are delivered and committed
 * in order, chunks in flight are bounded, and a failed chunk sends its partition back (seek) and
 * drops what was queued after it. The real protocol is exercised by the integration and fault suites.
 */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/index.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { Daemon, retryDelayMs } from '../../../src/kafka/daemon.js';
import { InlineProcessor } from '../../../src/kafka/records.js';
import { Slots } from '../../../src/kafka/slots.js';
import { Matcher } from '../../../src/matcher/index.js';
import { createLogger } from '../../../src/telemetry/index.js';
import { kbOf, record } from '../../helpers/kb.js';

type EachBatch = (payload: EachBatchPayload) => Promise<void>;

interface Sent {
  values: string[];
}

/** A kafkajs stand-in: records produce and commit calls; `failSend(n)` fails the n-th sendBatch (1-based). */
function scriptedKafka() {
  const sends: Sent[] = [];
  const commits: { topic: string; partition: number; offset: string }[][] = [];
  const seeks: { topic: string; partition: number; offset: string }[] = [];
  let eachBatch: EachBatch | null = null;
  let failOn = new Set<number>();
  let gate: Promise<void> = Promise.resolve();
  let opened: () => void = () => undefined;
  let sendCount = 0;
  let subscribeFailures = 0;
  const transactions: string[] = [];
  const emitter = { on: () => undefined, events: { GROUP_JOIN: 'j', FETCH: 'f', CRASH: 'c', DISCONNECT: 'd', REQUEST_TIMEOUT: 't', CONNECT: 'cn' } };
  const consumer = {
    ...emitter,
    connect: async () => undefined,
    subscribe: async () => {
      if (subscribeFailures > 0) {
        subscribeFailures--;
        throw new Error('This server does not host this topic-partition');
      }
    },
    run: async (o: { eachBatch: EachBatch }) => {
      eachBatch = o.eachBatch;
    },
    seek: (s: { topic: string; partition: number; offset: string }) => seeks.push(s),
    commitOffsets: async (c: { topic: string; partition: number; offset: string }[]) => {
      commits.push(c);
    },
    disconnect: async () => undefined,
  };
  const producer = {
    ...emitter,
    connect: async () => undefined,
    disconnect: async () => undefined,
    sendBatch: async (b: { topicMessages: { messages: { value: Buffer | string }[] }[] }) => {
      const n = ++sendCount;
      await gate;
      if (failOn.has(n)) throw new Error(`scripted failure of send ${n}`);
      sends.push({ values: b.topicMessages.flatMap((t) => t.messages.map((m) => String(m.value))) });
    },
    transaction: async () => ({
      sendBatch: async () => void transactions.push('send'),
      sendOffsets: async (o: { topics: { partitions: { offset: string }[] }[] }) => void transactions.push(`offsets ${o.topics[0]!.partitions[0]!.offset}`),
      commit: async () => void transactions.push('commit'),
      abort: async () => void transactions.push('abort'),
    }),
  };
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
  return {
    kafka,
    sends,
    commits,
    seeks,
    eachBatch: () => eachBatch!,
    transactions,
    failSend: (...n: number[]) => (failOn = new Set(n)),
    failSubscribe: (n: number) => (subscribeFailures = n),
    /** Holds every sendBatch until the returned function is called. */
    hold: () => {
      gate = new Promise<void>((r) => (opened = r));
      return () => opened();
    },
    /** Lets held sends go (cleanup: a failed test must not leave stop() waiting on them). */
    releaseAll: () => opened(),
  };
}

/** One fetched batch of `count` messages from `first` on; `stale()` is kafkajs's isStale. */
function batchOf(partition: number, first: number, count: number, resolved: string[], stale: () => boolean = () => false): EachBatchPayload {
  const messages = Array.from({ length: count }, (_, i) => ({ offset: String(first + i), key: null, value: Buffer.from(`p${partition} m${first + i} boom`), timestamp: '0', headers: {}, attributes: 0, size: 0 }));
  return {
    batch: { topic: 'in', partition, highWatermark: String(first + count), messages },
    resolveOffset: (o: string) => resolved.push(o),
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: stale,
  } as unknown as EachBatchPayload;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function daemonWith(env: Record<string, string>, failedStarts = 0) {
  const k = scriptedKafka();
  k.failSubscribe(failedStarts);
  const config = loadConfig({
    env: { LOGSIFT_DELIVERY_MAX_BATCH_MESSAGES: '2', LOGSIFT_DELIVERY_MAX_REQUEST_BYTES: '0', ...env },
    overrides: [
      { path: ['kafka', 'brokers'], value: ['127.0.0.1:1'], flag: '--brokers' },
      { path: ['input', 'topics'], value: ['in'], flag: '--input' },
      { path: ['output', 'topic'], value: 'out', flag: '--output' },
    ],
  });
  const kb = kbOf(record('test/boom', 'boom'));
  const enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  const daemon = new Daemon({ kafka: k.kafka, config, logger: createLogger('silent'), processor: () => new InlineProcessor(enricher) });
  for (let i = 0; i < failedStarts; i++) await expect(daemon.start()).rejects.toThrow(/does not host/);
  await daemon.start();
  stops.push(async () => {
    k.releaseAll();
    await daemon.stop();
  });
  return { k, daemon };
}

const settle = () => new Promise((r) => setTimeout(r, 20));
/** True when `p` settles within a short while (a batch handed back), false when it is still waiting. */
const returnsSoon = (p: Promise<void>) => Promise.race([p.then(() => true), settle().then(() => false)]);
/** The input offsets an event's log line names, per produce request. */
const offsetsOf = (s: Sent) => s.values.map((v) => /m(\d+) boom/.exec(v)![1]);

describe('read-ahead (at-least-once)', () => {
  it('hands a batch back once queued; each partition is delivered and committed in order', async () => {
    const { k } = await daemonWith({});
    const release = k.hold();
    const resolved: string[] = [];
    // Returns while nothing is delivered yet: 3 chunks of 2 fit in the default 8 slots.
    expect(await returnsSoon(k.eachBatch()(batchOf(0, 10, 6, resolved)))).toBe(true);
    expect(resolved).toEqual(['11', '13', '15']);
    expect(k.sends).toEqual([]);
    release();
    await settle();
    expect(k.sends.map(offsetsOf)).toEqual([['10', '11'], ['12', '13'], ['14', '15']]);
    expect(k.commits.flat()).toEqual([
      { topic: 'in', partition: 0, offset: '12' },
      { topic: 'in', partition: 0, offset: '14' },
      { topic: 'in', partition: 0, offset: '16' },
    ]);
  });

  it('bounds the chunks in flight by delivery.maxInFlightBatches', async () => {
    const { k } = await daemonWith({ LOGSIFT_DELIVERY_MAX_IN_FLIGHT_BATCHES: '2' });
    const release = k.hold();
    const resolved: string[] = [];
    const done = k.eachBatch()(batchOf(0, 0, 6, resolved));
    // Two chunks hold the two slots; the third waits for one to be delivered.
    expect(await returnsSoon(done)).toBe(false);
    expect(resolved).toEqual(['1', '3']);
    release();
    await done;
    await settle();
    expect(resolved).toEqual(['1', '3', '5']);
    expect(k.commits.flat().map((c) => c.offset)).toEqual(['2', '4', '6']);
  });

  it('a failed chunk sends its partition back to its first offset and drops the chunks queued after it', async () => {
    const { k } = await daemonWith({});
    k.failSend(2); // the second chunk of partition 0
    const release = k.hold();
    const resolved: string[] = [];
    expect(await returnsSoon(k.eachBatch()(batchOf(0, 0, 6, resolved)))).toBe(true);
    release();
    await settle();
    // Chunk [0,1] delivered and committed; [2,3] failed: seek to 2; [4,5] dropped, never committed.
    expect(k.sends.map(offsetsOf)).toEqual([['0', '1']]);
    expect(k.commits.flat().map((c) => c.offset)).toEqual(['2']);
    expect(k.seeks).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
    // A batch fetched before the seek took effect (kafkajs: stale) is dropped unprocessed.
    await k.eachBatch()(batchOf(0, 6, 2, resolved, () => true));
    expect(resolved).toEqual(['1', '3', '5']);
    // The re-fetch from offset 2 (after the backoff) is delivered in order.
    await k.eachBatch()(batchOf(0, 2, 4, resolved));
    await settle();
    expect(k.sends.map(offsetsOf)).toEqual([['0', '1'], ['2', '3'], ['4', '5']]);
    expect(k.commits.flat().map((c) => c.offset)).toEqual(['2', '4', '6']);
  });

  it('readAhead false: a batch returns only after its chunks are delivered', async () => {
    const { k } = await daemonWith({ LOGSIFT_DELIVERY_READ_AHEAD: 'false' });
    const release = k.hold();
    const resolved: string[] = [];
    const done = k.eachBatch()(batchOf(0, 0, 4, resolved));
    expect(await returnsSoon(done)).toBe(false);
    expect(resolved).toEqual([]);
    release();
    await done;
    expect(resolved).toEqual(['1', '3']);
    expect(k.commits.flat().map((c) => c.offset)).toEqual(['2', '4']);
  });
});

describe('a start that failed', () => {
  it('exactly-once stays exactly-once on the next attempt (transactions, no plain produce)', async () => {
    const { k } = await daemonWith({ LOGSIFT_DELIVERY_MODE: 'exactly-once' }, 1);
    await k.eachBatch()(batchOf(0, 0, 2, []));
    expect(k.sends).toEqual([]);
    expect(k.transactions).toEqual(['abort', 'send', 'offsets 2', 'commit']);
  });
});

describe('Slots', () => {
  it('lets `size` holders in and serves waiters first come, first served', async () => {
    const s = new Slots(2);
    await s.acquire();
    await s.acquire();
    const order: number[] = [];
    const a = s.acquire().then(() => order.push(1));
    const b = s.acquire().then(() => order.push(2));
    await settle();
    expect(order).toEqual([]);
    s.release();
    await a;
    expect(order).toEqual([1]);
    s.release();
    await b;
    expect(order).toEqual([1, 2]);
    expect(s.held).toBe(2);
    s.release();
    s.release();
    expect(s.held).toBe(0);
    expect(() => s.release()).toThrow(/without acquire/);
    expect(() => new Slots(0)).toThrow(RangeError);
  });

  it('backs off 250 ms doubling to 10 s after failures in a row', () => {
    expect([0, 1, 2, 3, 6, 7, 20].map(retryDelayMs)).toEqual([0, 250, 500, 1000, 8000, 10_000, 10_000]);
  });
});
