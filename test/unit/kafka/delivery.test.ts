import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import type { LogsiftError } from '../../../src/errors.js';
import { AtLeastOnceDelivery, ExactlyOnceDelivery, groupByTopic, isFencedError, transactionalId } from '../../../src/kafka/delivery.js';

describe('exactly-once delivery helpers', () => {
  it('recognises a fenced producer, also behind kafkajs retry wrappers', () => {
    const epoch = new KafkaJSProtocolError(Object.assign(new Error('epoch'), { type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false }));
    expect(isFencedError(epoch)).toBe(true);
    expect(isFencedError(new KafkaJSNumberOfRetriesExceeded(epoch, { retryCount: 5, retryTime: 100 }))).toBe(true);
    // PRODUCER_FENCED (90) is unknown to kafkajs 2.2: only its code arrives.
    expect(isFencedError(Object.assign(new Error('unknown'), { code: 90 }))).toBe(true);
    expect(isFencedError(new KafkaJSProtocolError(Object.assign(new Error('x'), { type: 'NOT_COORDINATOR', code: 16, retriable: true })))).toBe(false);
    expect(isFencedError(new Error('plain'))).toBe(false);
    expect(isFencedError('INVALID_PRODUCER_EPOCH')).toBe(false);
  });

  it('gives each input partition its own transactional id, the same on every instance', () => {
    expect(transactionalId('logsift-g', 'logs', 3)).toBe('logsift-g-logs-3');
    expect(transactionalId('logsift-g', 'logs', 3)).not.toBe(transactionalId('logsift-g', 'logs', 4));
  });

  it('groups records by topic, keeping their order', () => {
    const r = (topic: string, value: string) => ({ topic, key: null, value, headers: {} });
    expect(groupByTopic([r('a', '1'), r('b', '2'), r('a', '3')])).toEqual([
      { topic: 'a', messages: [{ key: null, value: '1', headers: {} }, { key: null, value: '3', headers: {} }] },
      { topic: 'b', messages: [{ key: null, value: '2', headers: {} }] },
    ]);
  });
});

/** A scripted stand-in for kafkajs clients: records what the delivery asks of them. */
function fakeKafka(script: { commit?: () => Promise<void>; committed?: string; connectFailures?: number } = {}) {
  const calls: string[] = [];
  const seeks: { topic: string; partition: number; offset: string }[] = [];
  let n = 0;
  const kafka = {
    producer: (o: { transactionalId: string }) => {
      const id = `${o.transactionalId}#${n++}`;
      return {
        connect: async () => {
          calls.push(`connect ${id}`);
          if ((script.connectFailures ?? 0) > 0) {
            script.connectFailures!--;
            throw new Error('broker down');
          }
        },
        disconnect: async () => void calls.push(`disconnect ${id}`),
        transaction: async () => ({
          sendBatch: async () => void calls.push(`send ${id}`),
          sendOffsets: async (x: { topics: { partitions: { offset: string }[] }[] }) => void calls.push(`offsets ${id} ${x.topics[0]!.partitions[0]!.offset}`),
          commit: async () => {
            calls.push(`commit ${id}`);
            await script.commit?.();
          },
          abort: async () => void calls.push(`abort ${id}`),
        }),
      };
    },
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async () => [{ topic: 't', partitions: [{ partition: 0, offset: script.committed ?? '-1' }] }],
    }),
  };
  const consumer = { seek: (s: { topic: string; partition: number; offset: string }) => void seeks.push(s) };
  return { kafka, consumer, calls, seeks };
}

describe('ExactlyOnceDelivery', () => {
  const record = { topic: 'out', key: null, value: 'v', headers: {} };
  const make = (f: ReturnType<typeof fakeKafka>, fenced: LogsiftError[] = []) =>
    new ExactlyOnceDelivery({
      kafka: f.kafka as unknown as Kafka,
      consumer: () => f.consumer as unknown as Consumer,
      groupId: 'g',
      transactionalIdPrefix: 'p',
      compression: 'none',
      logger: pino({ level: 'silent' }),
      onFenced: (e) => void fenced.push(e),
    });

  it('commits records and offsets in one transaction per chunk, on one producer per partition', async () => {
    const f = fakeKafka();
    const d = make(f);
    await d.deliver([record], { topic: 't', partition: 0, offset: '10' });
    await d.deliver([], { topic: 't', partition: 1, offset: '3' });
    expect(f.calls).toEqual(['connect p-t-0#0', 'abort p-t-0#0', 'send p-t-0#0', 'offsets p-t-0#0 10', 'commit p-t-0#0', 'connect p-t-1#1', 'abort p-t-1#1', 'offsets p-t-1#1 3', 'commit p-t-1#1']);
    expect(await d.realign('t', 0)).toBe(false);
    // A rebalance that takes partition 0 away closes its producer; partition 1 keeps its own.
    d.assigned({ t: [1] });
    await d.close();
    expect(f.calls.slice(9).sort()).toEqual(['disconnect p-t-0#0', 'disconnect p-t-1#1']);
  });

  it('after a failed transaction, drops the producer and realigns the partition to the committed offset', async () => {
    let fail = true;
    const f = fakeKafka({ commit: async () => { if (fail) throw new Error('EndTxn lost'); }, committed: '7' });
    const d = make(f);
    await expect(d.deliver([record], { topic: 't', partition: 0, offset: '7' })).rejects.toThrow('EndTxn lost');
    fail = false;
    expect(await d.realign('t', 0)).toBe(true);
    expect(f.seeks).toEqual([{ topic: 't', partition: 0, offset: '7' }]);
    expect(await d.realign('t', 0)).toBe(false);
    await d.deliver([record], { topic: 't', partition: 0, offset: '9' });
    expect(f.calls).toContain('disconnect p-t-0#0');
    expect(f.calls).toContain('commit p-t-0#1');
  });

  it('nothing committed yet: realigns without a seek (the group start position stands)', async () => {
    const f = fakeKafka({ commit: () => Promise.reject(new Error('down')) });
    const d = make(f);
    await expect(d.deliver([record], { topic: 't', partition: 0, offset: '5' })).rejects.toThrow('down');
    expect(await d.realign('t', 0)).toBe(true);
    expect(f.seeks).toEqual([]);
  });

  it('a producer that cannot connect is closed and replaced by the next chunk', async () => {
    const f = fakeKafka({ connectFailures: 1 });
    const d = make(f);
    await expect(d.deliver([record], { topic: 't', partition: 0, offset: '5' })).rejects.toThrow('broker down');
    expect(await d.realign('t', 0)).toBe(true);
    await d.deliver([record], { topic: 't', partition: 0, offset: '5' });
    expect(f.calls).toContain('disconnect p-t-0#0');
    expect(f.calls).toContain('commit p-t-0#1');
  });

  it('once fenced, reports it once and commits nothing more', async () => {
    const epoch = new KafkaJSProtocolError(Object.assign(new Error('epoch'), { type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false }));
    const f = fakeKafka({ commit: () => Promise.reject(epoch) });
    const fenced: LogsiftError[] = [];
    const d = make(f, fenced);
    await expect(d.deliver([record], { topic: 't', partition: 0, offset: '5' })).rejects.toMatchObject({ code: 'LOGSIFT_FENCED' });
    const commits = f.calls.filter((c) => c.startsWith('commit')).length;
    await expect(d.deliver([record], { topic: 't', partition: 1, offset: '5' })).rejects.toMatchObject({ code: 'LOGSIFT_FENCED' });
    await expect(d.realign('t', 1)).rejects.toMatchObject({ code: 'LOGSIFT_FENCED' });
    expect(f.calls.filter((c) => c.startsWith('commit')).length).toBe(commits);
    expect(fenced).toHaveLength(1);
  });
});

describe('at-least-once group commit', () => {
  /** A producer whose sends wait until released, and a consumer that records commits. */
  function clients() {
    const log: string[] = [];
    const releases: ((err?: Error) => void)[] = [];
    const producer = {
      sendBatch: (b: { topicMessages: { topic: string; messages: { value: string }[] }[] }) => {
        log.push(`send ${b.topicMessages.map((t) => `${t.topic}:${t.messages.map((m) => m.value).join(',')}`).join(' ')}`);
        return new Promise<void>((resolve, reject) => releases.push((err) => (err ? reject(err) : resolve())));
      },
    } as unknown as Producer;
    const consumer = {
      commitOffsets: async (points: { partition: number; offset: string }[]) => void log.push(`commit ${points.map((p) => `${p.partition}@${p.offset}`).join(' ')}`),
    } as unknown as Consumer;
    return { log, releases, producer, consumer };
  }
  const rec = (value: string, topic = 'out') => ({ topic, key: null, value, headers: {} });
  const point = (partition: number, offset: number) => ({ topic: 'in', partition, offset: String(offset) });
  const settle = () => new Promise((r) => setImmediate(r));

  it('sends a lone chunk at once, and the chunks that arrive meanwhile as one request and one commit', async () => {
    const c = clients();
    const d = new AtLeastOnceDelivery(c.producer, c.consumer, 'none');
    const first = d.deliver([rec('a')], point(0, 10));
    await settle();
    expect(c.log).toEqual(['send out:a']);
    const second = d.deliver([rec('b'), rec('x', 'dlq')], point(1, 20));
    const third = d.deliver([], point(2, 30));
    const fourth = d.deliver([rec('c')], point(3, 40));
    await settle();
    // Nothing is committed before its records are acknowledged.
    expect(c.log).toEqual(['send out:a']);
    c.releases.shift()!();
    await first;
    await settle();
    // The next group's produce request goes out while the first group's commit is in flight.
    expect(c.log).toEqual(['send out:a', 'send out:b,c dlq:x', 'commit 0@10']);
    c.releases.shift()!();
    await Promise.all([second, third, fourth]);
    expect(c.log).toEqual(['send out:a', 'send out:b,c dlq:x', 'commit 0@10', 'commit 1@20 2@30 3@40']);
  });

  it('commits one group at a time, in order, even when the later produce is acknowledged first', async () => {
    const c = clients();
    const commits: ((err?: Error) => void)[] = [];
    c.consumer.commitOffsets = ((points: { partition: number; offset: string }[]) => {
      c.log.push(`commit ${points.map((p) => `${p.partition}@${p.offset}`).join(' ')}`);
      return new Promise<void>((resolve, reject) => commits.push((err) => (err ? reject(err) : resolve())));
    }) as Consumer['commitOffsets'];
    const d = new AtLeastOnceDelivery(c.producer, c.consumer, 'none');
    const first = d.deliver([rec('a')], point(0, 10));
    await settle();
    c.releases.shift()!();
    await settle();
    const second = d.deliver([rec('b')], point(1, 20));
    await settle();
    c.releases.shift()!(); // b acknowledged while a's commit is still in flight
    await settle();
    expect(c.log).toEqual(['send out:a', 'commit 0@10', 'send out:b']);
    commits.shift()!(new Error('coordinator moved'));
    await expect(first).rejects.toThrow('coordinator moved');
    await settle();
    expect(c.log.at(-1)).toBe('commit 1@20');
    commits.shift()!();
    expect((await second).produceSeconds).toBeGreaterThanOrEqual(0);
  });

  it('keeps a group under maxRequestBytes, and fails only the group whose send failed', async () => {
    const c = clients();
    const d = new AtLeastOnceDelivery(c.producer, c.consumer, 'none', 10);
    const first = d.deliver([rec('0123456789abc')], point(0, 1)); // over the limit alone: sent alone
    await settle();
    const a = d.deliver([rec('12345')], point(1, 1));
    const b = d.deliver([rec('12345')], point(2, 1));
    const e = d.deliver([rec('1')], point(3, 1));
    c.releases.shift()!();
    await first;
    await settle();
    expect(c.log.slice(-2)).toEqual(['send out:12345,12345', 'commit 0@1']);
    c.releases.shift()!(new Error('broker down'));
    await expect(a).rejects.toThrow('broker down');
    await expect(b).rejects.toThrow('broker down');
    await settle();
    expect(c.log.at(-1)).toBe('send out:1');
    c.releases.shift()!();
    await e;
    expect(c.log.filter((l) => l.startsWith('commit'))).toEqual(['commit 0@1', 'commit 3@1']);
  });
});
