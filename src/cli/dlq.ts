/**
 * `logsift dlq replay`: sends dead-lettered messages back to an input topic after a fix — the value,
 * key and original headers, without logsift's dlq.* headers — optionally only those of one reason.
 * It reads up to the high watermarks seen at start and commits its progress in its own consumer group,
 * so a second run does not resend what the first one did.
 */
import { parseArgs } from 'node:util';

import { loadConfig } from '../config/index.js';
import { createKafka, firstHeader, HEADER, headerString, type HeaderValue } from '../kafka/index.js';
import { createLogger } from '../telemetry/index.js';
import { UsageError, type Output } from './common.js';

export async function dlqCommand(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'replay') throw new UsageError('logsift dlq replay --brokers H:P --dlq TOPIC --to TOPIC [--reason CODE] [--max N] [--group ID] [--timeout 60s]');
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' },
      brokers: { type: 'string' },
      dlq: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
      max: { type: 'string' },
      group: { type: 'string' },
      timeout: { type: 'string', default: '60' },
    },
    strict: true,
  });
  if (!values.dlq || !values.to) throw new UsageError('--dlq and --to are required');
  const config = loadConfig({
    ...(values.config ? { file: values.config } : {}),
    overrides: [
      ...(values.brokers ? [{ path: ['kafka', 'brokers'], value: values.brokers.split(','), flag: '--brokers' }] : []),
      { path: ['input', 'topics'], value: [values.dlq], flag: '--dlq' },
      { path: ['output', 'topic'], value: values.to, flag: '--to' },
    ],
  });
  const max = values.max === undefined ? Infinity : Number(values.max);
  const timeoutMs = Number(values.timeout) * 1000;
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const groupId = values.group ?? `logsift-dlq-replay.${values.to}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let replayed = 0;
  let skipped = 0;
  try {
    await admin.connect();
    const ends = new Map((await admin.fetchTopicOffsets(values.dlq)).map((p) => [p.partition, BigInt(p.high)]));
    const committed = await admin.fetchOffsets({ groupId, topics: [values.dlq] });
    const remaining = new Set<number>();
    for (const p of committed[0]?.partitions ?? []) {
      const start = BigInt(p.offset === '-1' ? '0' : p.offset);
      if (start < (ends.get(p.partition) ?? 0n)) remaining.add(p.partition);
    }
    if (remaining.size === 0) {
      io.err(`logsift: nothing to replay from ${values.dlq}\n`);
      return 0;
    }
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [values.dlq], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`replay did not reach the end of ${values.dlq} within ${values.timeout}s`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const end = ends.get(batch.partition) ?? 0n;
            const out = [];
            let last: string | null = null;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= end || replayed + out.length >= max) break;
              last = m.offset;
              const headers = (m.headers ?? {}) as Record<string, HeaderValue>;
              if (values.reason && headerString(headers, HEADER.dlqReason) !== values.reason) {
                skipped++;
                continue;
              }
              const kept: Record<string, Buffer | string> = {};
              for (const [k, v] of Object.entries(headers)) {
                if (k.startsWith('logsift.dlq.') || k.startsWith('logsift.source.')) continue;
                const first = firstHeader(v);
                if (first !== undefined) kept[k] = first;
              }
              out.push({ key: m.key ?? null, value: m.value ?? null, headers: kept });
            }
            if (out.length > 0) await producer.send({ topic: values.to!, messages: out, acks: -1 });
            replayed += out.length;
            if (last !== null) {
              resolveOffset(last);
              await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
              if (BigInt(last) + 1n >= end) remaining.delete(batch.partition);
            }
            if (remaining.size === 0 || replayed >= max) done();
          },
        })
        .catch(reject);
    });
    io.err(`logsift: replayed ${replayed} message(s) from ${values.dlq} to ${values.to}${values.reason ? ` (reason ${values.reason}; ${skipped} other(s) skipped)` : ''}\n`);
    return 0;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
