/**
 * Baseline for bench:pipeline: a kafkajs pass-through with logsift's delivery shape and no matching.
 * at-least-once: consume, produce every message (idempotent, acks=all), commit after the acknowledgement.
 * exactly-once: per chunk one transaction (send + sendOffsets + commit) on a transactional producer
 * per input partition, as logsift's exactly-once delivery does it.
 * Usage: node bench/passthrough.ts BROKERS INPUT OUTPUT GROUP [at-least-once|exactly-once] (Node's own type
 * stripping: it imports only kafkajs)
 */
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';

const [brokers, input, output, group, mode = 'at-least-once'] = process.argv.slice(2) as [string, string, string, string, string?];
const kafka = new Kafka({ clientId: 'passthrough', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 1000 });
const transactional = new Map<number, Promise<Producer>>();
const txProducer = (partition: number): Promise<Producer> => {
  let p = transactional.get(partition);
  if (!p) {
    const tp = kafka.producer({ transactionalId: `passthrough-${group}-${input}-${partition}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    p = tp.connect().then(() => tp);
    transactional.set(partition, p);
  }
  return p;
};
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [input], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: 4,
  eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
    for (let i = 0; i < batch.messages.length; i += 2000) {
      const chunk = batch.messages.slice(i, i + 2000);
      const messages = chunk.map((m) => ({ key: m.key, value: m.value, headers: { 'source.offset': m.offset } }));
      const last = chunk[chunk.length - 1]!.offset;
      const next = { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() };
      if (mode === 'exactly-once') {
        const tx = await (await txProducer(batch.partition)).transaction();
        await tx.send({ topic: output, acks: -1, messages });
        await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: next.topic, partitions: [{ partition: next.partition, offset: next.offset }] }] });
        await tx.commit();
      } else {
        await producer.send({ topic: output, acks: -1, messages });
        await consumer.commitOffsets([next]);
      }
      resolveOffset(last);
      await heartbeat();
    }
  },
});
process.on('SIGTERM', () => {
  void consumer
    .disconnect()
    .then(() => Promise.all([producer, ...[...transactional.values()]].map(async (p) => (await p).disconnect())))
    .then(() => process.exit(0));
});
