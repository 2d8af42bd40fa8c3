/**
 * The test broker itself, before any daemon is tested against it: librdkafka's mock cluster with
 * tools/mock-broker/txn-offsets-and-read-committed.patch must keep transactions as a real broker does.
 * Hand-made committed, aborted and open transactions, read back by two independent clients: kafkajs
 * (transactional producer, sendOffsets, a read_committed consumer, admin offsets) and kcat
 * (librdkafka, `-X isolation.level=read_committed`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import { MockCluster } from '../helpers/broker.js';
import { randomName, waitFor } from '../helpers/wait.js';

const exec = promisify(execFile);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function kcatValues(brokers: string[], topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const { stdout } = await exec('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n', '-X', `isolation.level=${isolation}`]);
  return stdout.split('\n').filter((l) => l !== '');
}

async function setup(): Promise<{ cluster: MockCluster; kafka: Kafka; data: string; source: string; group: string; txProducer(id: string): Promise<Producer> }> {
  const cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  const data = randomName('txn-data');
  const source = randomName('txn-source');
  await cluster.createTopic(data, 1);
  await cluster.createTopic(source, 2);
  const kafka = new Kafka({ clientId: 'mock-broker-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
  return {
    cluster,
    kafka,
    data,
    source,
    group: randomName('txn-group'),
    async txProducer(id) {
      const p = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 2 } });
      await p.connect();
      cleanup.push(() => p.disconnect());
      return p;
    },
  };
}

async function committed(kafka: Kafka, group: string, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
  } finally {
    await admin.disconnect();
  }
}

describe('patched mock broker: transactions', () => {
  it('commits TxnOffsetCommit offsets with EndTxn(commit) and discards them with EndTxn(abort)', async () => {
    const { kafka, data, source, group, txProducer } = await setup();
    const p = await txProducer(randomName('tid'));

    let tx = await p.transaction();
    await tx.send({ topic: data, messages: [{ value: 'c1' }] });
    await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: source, partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '7' }] }] });
    // Not visible before the transaction commits.
    expect(await committed(kafka, group, source)).toEqual(['-1', '-1']);
    await tx.commit();
    expect(await committed(kafka, group, source)).toEqual(['5', '7']);

    tx = await p.transaction();
    await tx.send({ topic: data, messages: [{ value: 'a1' }] });
    await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: source, partitions: [{ partition: 0, offset: '9' }] }] });
    await tx.abort();
    expect(await committed(kafka, group, source)).toEqual(['5', '7']);

    // A transaction with offsets only (no records) commits them too.
    tx = await p.transaction();
    await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: source, partitions: [{ partition: 1, offset: '11' }] }] });
    await tx.commit();
    expect(await committed(kafka, group, source)).toEqual(['5', '11']);
  });

  it('read_committed sees committed data only, up to the last stable offset (kafkajs and kcat)', async () => {
    const { cluster, kafka, data, txProducer } = await setup();
    const tid = randomName('tid');
    const p = await txProducer(tid);
    const plain = kafka.producer({ allowAutoTopicCreation: false });
    await plain.connect();
    cleanup.push(() => plain.disconnect());

    const run = async (values: string[], end: 'commit' | 'abort'): Promise<void> => {
      const tx = await p.transaction();
      await tx.send({ topic: data, messages: values.map((value) => ({ value })) });
      await (end === 'commit' ? tx.commit() : tx.abort());
    };
    await run(['c1', 'c2'], 'commit');
    await run(['a1', 'a2'], 'abort');
    await plain.send({ topic: data, messages: [{ value: 'n1' }] });
    await run(['c3'], 'commit');
    // An open transaction, then a non-transactional record behind it: the LSO stops at o1.
    const open = await p.transaction();
    await open.send({ topic: data, messages: [{ value: 'o1' }] });
    await plain.send({ topic: data, messages: [{ value: 'n2' }] });

    expect(await kcatValues(cluster.brokers, data, 'read_committed')).toEqual(['c1', 'c2', 'n1', 'c3']);
    expect(await kcatValues(cluster.brokers, data, 'read_uncommitted')).toEqual(['c1', 'c2', 'a1', 'a2', 'n1', 'c3', 'o1', 'n2']);

    // A second producer with the same transactional id fences the first and aborts its open
    // transaction: the LSO moves past o1, the zombie cannot commit.
    const successor = await txProducer(tid);
    const tx = await successor.transaction(); // kafkajs sends InitProducerId here
    await expect(open.commit()).rejects.toMatchObject({ type: 'INVALID_PRODUCER_EPOCH' });
    await tx.send({ topic: data, messages: [{ value: 'end' }] });
    await tx.commit();

    const want = ['c1', 'c2', 'n1', 'c3', 'n2', 'end'];
    expect(await kcatValues(cluster.brokers, data, 'read_committed')).toEqual(want);

    const consumer = kafka.consumer({ groupId: randomName('reader'), readUncommitted: false, maxWaitTimeInMs: 200 });
    cleanup.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topics: [data], fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(() => seen.includes('end'), 'kafkajs to read up to the end marker', 30_000);
    expect(seen).toEqual(want);
  });

  it('gives every producer its own producer id (thousands of InitProducerId requests)', async () => {
    // The stock mock drew ids at random from 900,000 values without checking: over 5,000 producers
    // about 14 repeats were expected, and a repeated id made every request of the later producer
    // fail with INVALID_PRODUCER_ID_MAPPING for good (a benchmark's exactly-once run stalled on it).
    const cluster = await MockCluster.start();
    cleanup.push(() => cluster.stop());
    const [host, port] = cluster.brokers[0]!.split(':') as [string, string];
    const ids = await initProducerIds(host, Number(port), 5000);
    expect(ids.errors).toEqual([]);
    expect(ids.pids).toHaveLength(5000);
    expect(new Set(ids.pids).size).toBe(5000);
  });
});

/**
 * InitProducerId v0 requests without a TransactionalId, `count` of them pipelined on one connection,
 * written by hand (kafkajs keeps its producer id to itself): the producer ids the broker hands out.
 */
async function initProducerIds(host: string, port: number, count: number): Promise<{ pids: string[]; errors: number[] }> {
  const { connect } = await import('node:net');
  const clientId = Buffer.from('pid-test');
  const request = (correlationId: number): Buffer => {
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 2 + 4);
    let o = body.writeInt16BE(22, 0); // ApiKey InitProducerId
    o = body.writeInt16BE(0, o); // ApiVersion
    o = body.writeInt32BE(correlationId, o);
    o = body.writeInt16BE(clientId.length, o);
    o += clientId.copy(body, o);
    o = body.writeInt16BE(-1, o); // TransactionalId: null
    body.writeInt32BE(60_000, o); // TransactionTimeoutMs
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    return Buffer.concat([size, body]);
  };
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const pids: string[] = [];
  const errors: number[] = [];
  let pending = Buffer.alloc(0);
  const done = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Response: Size, CorrelationId, ThrottleTimeMs, ErrorCode, ProducerId (int64), ProducerEpoch.
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const error = pending.readInt16BE(12);
        if (error !== 0) errors.push(error);
        pids.push(pending.readBigInt64BE(14).toString());
        pending = pending.subarray(4 + pending.readInt32BE(0));
        if (pids.length === count) resolve();
      }
    });
  });
  socket.write(Buffer.concat(Array.from({ length: count }, (_, i) => request(i + 1))));
  await done;
  socket.destroy();
  return { pids, errors };
}
