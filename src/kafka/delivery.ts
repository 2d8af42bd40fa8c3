/**
 * The delivery seam: how a processed chunk's records and its input offsets reach Kafka. At-least-once
 * is produce (idempotent, acks=all) then commit; exactly-once is send + sendOffsets + commit in one
 * Kafka transaction (ExactlyOnceDelivery below), without touching the flow.
 */
import type { Admin, Consumer, Kafka, Producer, Transaction, TopicMessages } from 'kafkajs';
import { Partitioners } from './kafkajs.js';
import type { Logger } from 'pino';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { OutputRecord } from './records.js';
import { compressionType, type OutputCompression } from './codecs.js';

export interface CommitPoint {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1), as Kafka commits it. */
  offset: string;
}

export interface DeliveryTiming {
  produceSeconds: number;
  commitSeconds: number;
}

export interface Delivery {
  /** Resolves once every record is acknowledged and the commit point is committed. */
  deliver(records: readonly OutputRecord[], commit: CommitPoint): Promise<DeliveryTiming>;
  /**
   * Called before each fetched batch of a partition. True: the batch must be dropped unprocessed,
   * because the consumer's position was moved back (or forward) to the committed offset.
   */
  realign(topic: string, partition: number): Promise<boolean>;
  /** The consumer's partitions after a rebalance (topic → partitions). */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): void;
  /** Releases the delivery's own clients. */
  close(): Promise<void>;
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

/** What one chunk weighs in a produce request: its keys and values. */
function recordBytes(records: readonly OutputRecord[]): number {
  let n = 0;
  for (const r of records) n += (r.key?.length ?? 0) + r.value.length;
  return n;
}

interface Queued {
  records: readonly OutputRecord[];
  commit: CommitPoint;
  bytes: number;
  resolve: (t: DeliveryTiming) => void;
  reject: (e: unknown) => void;
}

/**
 * At-least-once with group commit: the chunks that become ready while a produce request is in flight
 * (from other partitions: a partition's chunks follow one another) go out together, as one produce
 * request and then one offset commit, up to `maxRequestBytes` of keys and values (a single chunk may
 * be larger). Under load that replaces a round trip per chunk with one per group; when idle, a chunk
 * goes out at once. The next group's produce request is sent while the previous group's commit is in
 * flight (commits stay in order, one at a time). Each chunk's offsets are still committed only after
 * its records, and every earlier chunk's of its partition, were acknowledged.
 */
export class AtLeastOnceDelivery implements Delivery {
  private readonly queue: Queued[] = [];
  private flushing = false;
  /** The commit in flight (or the last one, settled): the next group's commit follows it. */
  private committing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly compression: OutputCompression,
    private readonly maxRequestBytes = 1024 * 1024,
  ) {}

  deliver(records: readonly OutputRecord[], commit: CommitPoint): Promise<DeliveryTiming> {
    return new Promise<DeliveryTiming>((resolve, reject) => {
      this.queue.push({ records, commit, bytes: recordBytes(records), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        let take = 1;
        let bytes = this.queue[0]!.bytes;
        while (take < this.queue.length && bytes + this.queue[take]!.bytes <= this.maxRequestBytes) bytes += this.queue[take++]!.bytes;
        const group = this.queue.splice(0, take);
        const t0 = process.hrtime.bigint();
        try {
          const records = group.length === 1 ? group[0]!.records : group.flatMap((q) => q.records);
          if (records.length > 0) {
            await this.producer.sendBatch({ topicMessages: groupByTopic(records), acks: -1, compression: compressionType(this.compression) });
          }
        } catch (err) {
          for (const q of group) q.reject(err);
          continue;
        }
        const t1 = process.hrtime.bigint();
        // A partition has at most one chunk in a group, and its next chunk comes only after this one
        // is committed (the flow awaits each chunk's delivery), so its commits stay contiguous.
        const commit = this.committing.then(() => this.consumer.commitOffsets(group.map((q) => q.commit)));
        this.committing = commit.catch(() => undefined);
        commit.then(
          () => {
            const timing = { produceSeconds: Number(t1 - t0) / 1e9, commitSeconds: Number(process.hrtime.bigint() - t1) / 1e9 };
            for (const q of group) q.resolve(timing);
          },
          (err: unknown) => {
            for (const q of group) q.reject(err);
          },
        );
      }
    } finally {
      this.flushing = false;
    }
  }

  /** A failed chunk was not resolved: kafkajs re-fetches it from the last resolved (= committed) offset. */
  realign(): Promise<boolean> {
    return Promise.resolve(false);
  }

  assigned(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Kafka's answers to a producer whose epoch was bumped by a newer one with its transactional id. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const FENCED_CODES = new Set([47, 90]);

/** True when `err`, or an error it wraps (kafkajs retries wrap the broker's), says "fenced". */
export function isFencedError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { type, code } = e as { type?: unknown; code?: unknown };
    if ((typeof type === 'string' && FENCED_TYPES.has(type)) || (typeof code === 'number' && FENCED_CODES.has(code))) return true;
  }
  return false;
}

/** The transactional id of one input partition: it follows the partition from instance to instance. */
export function transactionalId(prefix: string, topic: string, partition: number): string {
  return `${prefix}-${topic}-${partition}`;
}

export interface ExactlyOnceOptions {
  kafka: Kafka;
  /** The consumer of the moment (a crashed consumer is replaced). */
  consumer: () => Consumer;
  groupId: string;
  transactionalIdPrefix: string;
  compression: OutputCompression;
  logger: Logger;
  /** Called once when a producer is fenced: another instance owns a partition this one worked on. */
  onFenced: (err: LogsiftError) => void;
}

/**
 * Exactly-once: each chunk's records (events, unmatched, dead letters) and its input offset are one
 * Kafka transaction. One transactional producer per input partition, with the transactional id
 * `<prefix>-<topic>-<partition>`: whichever instance is assigned the partition next initialises the
 * same id, which aborts the previous owner's open transaction and fences it (kafkajs's
 * TxnOffsetCommit has no group generation, KIP-447, so a per-instance id could not fence a zombie
 * whose partitions moved to another instance). Partitions in flight run their transactions
 * concurrently, each on its own producer.
 *
 * Any failure: the producer is dropped (its successor's InitProducerId aborts whatever the failed
 * one left open) and the partition is marked; its next batch is dropped and the consumer seeks to
 * the offset the broker has committed, so the chunk is redone from there, also when the failure
 * hid a commit that did happen (a lost EndTxn answer). Fenced: nothing more is committed by this
 * instance (every later deliver() fails) and onFenced tells the daemon to exit.
 */
export class ExactlyOnceDelivery implements Delivery {
  private readonly producers = new Map<string, Promise<Producer>>();
  /** Partitions whose consumer position must be re-read from the committed offset. */
  private readonly stale = new Set<string>();
  private admin: Admin | null = null;
  private fenced: LogsiftError | null = null;

  constructor(private readonly o: ExactlyOnceOptions) {}

  private producer(topic: string, partition: number): Promise<Producer> {
    const key = `${topic}:${partition}`;
    let p = this.producers.get(key);
    if (!p) {
      const producer = this.o.kafka.producer({
        transactionalId: transactionalId(this.o.transactionalIdPrefix, topic, partition),
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // The same partitioner as the at-least-once producer: a key lands on the same partition.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded: a failure must surface so that the transaction is abandoned and redone (kafkajs
        // warns that limited retries may break idempotence; here a failed send aborts its transaction).
        retry: { retries: 5, initialRetryTime: 250, maxRetryTime: 5_000 },
      });
      // kafkajs sends InitProducerId with the first transaction, not on connect: begin and end an
      // empty one (no request) so that the id is initialised, and the previous owner fenced, now.
      p = producer
        .connect()
        .then(() => producer.transaction())
        .then((tx) => tx.abort())
        .then(() => producer);
      const created = p;
      created.catch(() => {
        // The next chunk of the partition tries with a new producer.
        if (this.producers.get(key) === created) this.producers.delete(key);
        void producer.disconnect().catch(() => undefined);
      });
      this.producers.set(key, created);
    }
    return p;
  }

  private drop(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    const p = this.producers.get(key);
    this.producers.delete(key);
    void p?.then((producer) => producer.disconnect()).catch(() => undefined);
  }

  private fence(err: unknown, topic: string, partition: number): LogsiftError {
    if (!this.fenced) {
      this.fenced = new LogsiftError(ErrorCodes.FENCED, `producer of ${topic}[${partition}] fenced: another instance took over this partition; this instance commits nothing more`, { cause: err });
      this.o.onFenced(this.fenced);
    }
    return this.fenced;
  }

  async deliver(records: readonly OutputRecord[], commit: CommitPoint): Promise<DeliveryTiming> {
    if (this.fenced) throw this.fenced;
    const { topic, partition, offset } = commit;
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    let tx: Transaction | null = null;
    try {
      tx = await (await this.producer(topic, partition)).transaction();
      if (records.length > 0) await tx.sendBatch({ topicMessages: groupByTopic(records), acks: -1, compression: compressionType(this.o.compression) });
      t1 = process.hrtime.bigint();
      await tx.sendOffsets({ consumerGroupId: this.o.groupId, topics: [{ topic, partitions: [{ partition, offset }] }] });
      await tx.commit();
    } catch (err) {
      this.stale.add(`${topic}:${partition}`);
      this.drop(topic, partition);
      if (isFencedError(err)) throw this.fence(err, topic, partition);
      this.o.logger.warn({ err, code: ErrorCodes.KAFKA, topic, partition, transaction_open: tx !== null }, 'transaction failed; it is abandoned (aborted) and the chunk redone from the committed offset');
      throw err;
    }
    const t2 = process.hrtime.bigint();
    return { produceSeconds: Number(t1 - t0) / 1e9, commitSeconds: Number(t2 - t1) / 1e9 };
  }

  async realign(topic: string, partition: number): Promise<boolean> {
    if (this.fenced) throw this.fenced;
    const key = `${topic}:${partition}`;
    if (!this.stale.has(key)) return false;
    // The successor producer first: its InitProducerId completes (or aborts) any transaction the
    // failed one left, so the committed offset read next is final.
    await this.producer(topic, partition);
    if (!this.admin) {
      const admin = this.o.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const [t] = await this.admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] });
    const committed = t?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
    // Nothing committed yet: the unresolved position is the group's starting point already.
    if (BigInt(committed) >= 0n) this.o.consumer().seek({ topic, partition, offset: committed });
    this.stale.delete(key);
    this.o.logger.info({ topic, partition, offset: committed }, 'resuming the partition from its committed offset');
    return true;
  }

  /**
   * Producers of partitions that moved away are dropped: their transactional ids are the new
   * owner's now, and a later assignment back here starts with a fresh producer (which fences that
   * owner in turn) instead of a fenced one.
   */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): void {
    for (const key of [...this.producers.keys()]) {
      const at = key.lastIndexOf(':');
      const topic = key.slice(0, at);
      if (!(assignment[topic] ?? []).includes(Number(key.slice(at + 1)))) this.drop(topic, Number(key.slice(at + 1)));
    }
  }

  async close(): Promise<void> {
    const producers = [...this.producers.values()];
    this.producers.clear();
    await Promise.allSettled(producers.map(async (p) => (await p).disconnect()));
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }
}
