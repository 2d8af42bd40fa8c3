/** Test-side Kafka I/O: kafkajs to produce input, kcat (an independent client) to read outputs. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Kafka, Partitioners, logLevel } from 'kafkajs';

const exec = promisify(execFile);

export interface InputRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  partition?: number;
  headers?: Record<string, string>;
}

export async function produce(brokers: string[], topic: string, records: readonly InputRecord[], batch = 500): Promise<void> {
  const kafka = new Kafka({ clientId: 'logsift-test', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += batch) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + batch).map((r) => ({ key: r.key, value: r.value, ...(r.partition !== undefined ? { partition: r.partition } : {}), ...(r.headers ? { headers: r.headers } : {}) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Every record of a topic so far, read with kcat (no consumer group, exits at the end).
 * read_committed (librdkafka's default, explicit here): up to the last stable offset, aborted
 * transactions left out.
 */
export async function readAll(brokers: string[], topic: string, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Promise<ReadRecord[]> {
  const { stdout } = await exec('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-J', '-m', '10', '-X', `isolation.level=${isolation}`], { maxBuffer: 1 << 30 });
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const j = JSON.parse(l) as { topic: string; partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] };
      const headers: Record<string, string> = {};
      for (let i = 0; j.headers && i + 1 < j.headers.length; i += 2) headers[j.headers[i]!] = j.headers[i + 1]!;
      return { topic: j.topic, partition: j.partition, offset: j.offset, key: j.key, value: j.payload, headers };
    });
}

export interface DeliveryReport {
  expected: number;
  delivered: number;
  lost: string[];
  duplicates: number;
}

/** By input coordinates ("partition:offset"): which expected inputs have no event, and how many repeats. */
export function deliveryReport(expected: ReadonlySet<string>, events: readonly ReadRecord[]): DeliveryReport {
  const seen = new Map<string, number>();
  for (const e of events) {
    const key = `${e.headers['logsift.source.partition']}:${e.headers['logsift.source.offset']}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const lost = [...expected].filter((k) => !seen.has(k));
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return { expected: expected.size, delivered: seen.size, lost, duplicates };
}

/** Input coordinates of every message of a topic (to know what must come out). */
export async function inputCoordinates(brokers: string[], topic: string, filter: (r: ReadRecord) => boolean = () => true): Promise<Set<string>> {
  return new Set((await readAll(brokers, topic)).filter(filter).map((r) => `${r.partition}:${r.offset}`));
}
