/**
 * The delivery seam: how a processed chunk's records and its input offsets reach Kafka. At-least-once
 * is produce (idempotent, acks=all) then commit; a transactional exactly-once mode plugs in here
 * (send + sendOffsets + commit in one transaction) without touching the flow.
 */
import type { Consumer, Producer, TopicMessages } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';

import type { OutputRecord } from './records.js';

export interface CommitPoint {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1), as Kafka commits it. */
  offset: string;
}

export interface Delivery {
  /** Resolves once every record is acknowledged and the commit point is committed. */
  deliver(records: readonly OutputRecord[], commit: CommitPoint): Promise<{ produceSeconds: number; commitSeconds: number }>;
}

export function groupByTopic(records: readonly OutputRecord[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const r of records) {
    let t = byTopic.get(r.topic);
    if (!t) {
      t = { topic: r.topic, messages: [] };
      byTopic.set(r.topic, t);
    }
    t.messages.push({ key: r.key, value: r.value, headers: r.headers });
  }
  return [...byTopic.values()];
}

export class AtLeastOnceDelivery implements Delivery {
  constructor(
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly compression: 'none' | 'gzip',
  ) {}

  async deliver(records: readonly OutputRecord[], commit: CommitPoint): Promise<{ produceSeconds: number; commitSeconds: number }> {
    const t0 = process.hrtime.bigint();
    if (records.length > 0) {
      await this.producer.sendBatch({
        topicMessages: groupByTopic(records),
        acks: -1,
        compression: this.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      });
    }
    const t1 = process.hrtime.bigint();
    // Offsets of one partition are committed in order, each after its own records and every earlier
    // chunk's were acknowledged: the flow awaits each chunk before the next (contiguous commits).
    await this.consumer.commitOffsets([commit]);
    const t2 = process.hrtime.bigint();
    return { produceSeconds: Number(t1 - t0) / 1e9, commitSeconds: Number(t2 - t1) / 1e9 };
  }
}
