/**
 * Baseline for bench:pipeline: a kafkajs pass-through with logsift's delivery shape — consume, produce
 * every message (idempotent, acks=all), commit after the acknowledgement — and no matching.
 * Usage: node --import tsx bench/passthrough.ts BROKERS INPUT OUTPUT GROUP
 */
import { Kafka, Partitioners, logLevel } from 'kafkajs';

const [brokers, input, output, group] = process.argv.slice(2) as [string, string, string, string];
const kafka = new Kafka({ clientId: 'passthrough', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
const consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 1000 });
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
      await producer.send({ topic: output, acks: -1, messages: chunk.map((m) => ({ key: m.key, value: m.value, headers: { 'source.offset': m.offset } })) });
      const last = chunk[chunk.length - 1]!.offset;
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      await heartbeat();
    }
  },
});
process.on('SIGTERM', () => {
  void consumer.disconnect().then(() => producer.disconnect()).then(() => process.exit(0));
});
