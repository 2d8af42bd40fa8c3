/**
 * The kafkajs client as logsift builds it: kafkajs's logs reach the daemon's logger at their own
 * level, except warnings about choices logsift made on purpose (exactly-once's bounded retries),
 * which go to debug.
 */
import { Writable } from 'node:stream';

import pino from 'pino';
import { describe, expect, it } from 'vitest';

import { ConfigSchema } from '../../../src/config/index.js';
import { EXPECTED_KAFKAJS_WARNINGS, createKafka } from '../../../src/kafka/client.js';
import { Partitioners } from '../../../src/kafka/kafkajs.js';

function capture(): { logger: pino.Logger; lines: { level: number; msg: string; kafkajs?: string }[] } {
  const lines: { level: number; msg: string; kafkajs?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const config = ConfigSchema.parse({ kafka: { brokers: ['127.0.0.1:9'] }, input: { topics: ['in'] }, output: { topic: 'out' } }).kafka;

describe('createKafka: kafkajs logs', () => {
  it('logs the bounded-retries warning of a transactional producer at debug, once per producer', async () => {
    const { logger, lines } = capture();
    const kafka = createKafka(config, logger);
    // As exactly-once delivery creates them: one per input partition, retries bounded on purpose.
    for (const partition of [0, 1, 2]) kafka.producer({ transactionalId: `logsift-test-in-${partition}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 5 } });
    await new Promise((r) => setImmediate(r));
    const bounded = lines.filter((l) => EXPECTED_KAFKAJS_WARNINGS.has(l.msg));
    expect(bounded).toHaveLength(3);
    expect(bounded.every((l) => l.level === 20)).toBe(true);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('passes any other kafkajs warning and error through at its level, with its namespace', async () => {
    const { logger, lines } = capture();
    const kafka = createKafka(config, logger);
    kafka.logger().warn('consumer#run was called, but the consumer is already running', { groupId: 'g' });
    kafka.logger().error('Crash: KafkaJSNumberOfRetriesExceeded', { groupId: 'g' });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'consumer#run was called, but the consumer is already running'],
      [50, 'Crash: KafkaJSNumberOfRetriesExceeded'],
    ]);
  });
});
