/**
 * The Kafka shell of `logsift run`: a consumer group feeds batches through the pure pipeline
 * (records.ts) and the delivery seam (delivery.ts). At-least-once: a chunk's offsets are committed
 * only after its events are acknowledged, chunk after chunk, so a crash or SIGKILL re-delivers and
 * never loses.
 */
import { context, propagation, trace, SpanKind, TraceFlags, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';

import type { Config } from '../config/index.js';
import type { LogsiftError } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import type { MinedText } from '../suggest/index.js';
import { AtLeastOnceDelivery, ExactlyOnceDelivery, type Delivery } from './delivery.js';
import { Partitioners } from './kafkajs.js';
import { NO_OBSERVER, type PipelineObserver, type ReadinessState } from './observer.js';
import { HEADER, chunkRecords, headerString, type ChunkItem, type ChunkProcessor, type EnrichedChunk, type HeaderValue, type InputMessage, type ProcessOptions, type ProcessResult } from './records.js';
import { Slots } from './slots.js';

export interface DaemonDeps {
  kafka: Kafka;
  config: Config;
  logger: Logger;
  /** Where chunks are enriched (this thread or enrichment workers); a KB reload swaps it between chunks. */
  processor: () => ChunkProcessor;
  observer?: PipelineObserver;
  /** Called with a chunk's enriched messages after it was delivered and committed (the shadow KB). */
  afterChunk?: (enriched: ProcessResult['enriched']) => void;
  tracer?: Tracer;
  now?: () => Date;
  /**
   * Per chunk, for template mining: how many of its items matched nothing, and the texts of those
   * the chunk processor's mining selector chose (ChunkItem.mined).
   */
  onUnmatched?: (unmatched: number, mined: readonly MinedText[]) => void;
}

const headerGetter = {
  keys: (carrier: Record<string, HeaderValue>) => Object.keys(carrier),
  get: (carrier: Record<string, HeaderValue>, key: string) => headerString(carrier, key),
};

/** A chunk whose enrichment has started (Daemon.startChunk); delivered by finishChunk. */
interface StartedChunk {
  chunk: EachBatchPayload['batch']['messages'];
  messages: InputMessage[];
  span: Span;
  kb: KnowledgeBase;
  enriched: Promise<EnrichedChunk>;
  t0: bigint;
  base: ProcessOptions;
}

/**
 * Read-ahead: one input partition's queued chunks, delivered one after another. `epoch` changes when
 * what is queued must be dropped (a failed chunk, a rebalance, a consumer restart): a chunk queued
 * under an older epoch is not delivered, and is fetched again from the offset the partition is sent
 * back to.
 */
interface PartitionChain {
  tail: Promise<void>;
  epoch: number;
  /** Failures in a row: the partition's next batch waits a backoff first. */
  failures: number;
}

/** Backoff before a partition's next batch after its `failures`-th failure in a row. */
export function retryDelayMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(10_000, 250 * 2 ** (failures - 1));
}

export class Daemon {
  private consumer: Consumer;
  private readonly producer: Producer;
  private delivery: Delivery;
  private readonly observer: PipelineObserver;
  private readonly tracer: Tracer;
  private readonly now: () => Date;
  private stopping = false;
  private lastFetch = 0;
  /** Chunks being delivered; stop() waits for them so their commits land before disconnecting. */
  private readonly inFlight = new Set<Promise<void>>();
  private restarting: Promise<void> | null = null;
  /** At-least-once read-ahead (delivery.readAhead): batches return to kafkajs once queued. */
  private readonly readAhead: boolean;
  /** Read-ahead: chunks in flight (enriching or being delivered), delivery.maxInFlightBatches at most. */
  private readonly slots: Slots;
  private readonly chains = new Map<string, PartitionChain>();
  private watchdog: NodeJS.Timeout | null = null;
  readonly readiness: ReadinessState = { kbLoaded: true, consumerJoined: false, producerConnected: false, brokerReachable: false };
  private onFatal: (err: LogsiftError) => void = () => undefined;
  /** Resolves when this instance must exit: exactly-once and fenced by another instance. */
  readonly fatal = new Promise<LogsiftError>((resolve) => (this.onFatal = resolve));

  constructor(private readonly deps: DaemonDeps) {
    const { kafka, config } = deps;
    this.observer = deps.observer ?? NO_OBSERVER;
    this.tracer = deps.tracer ?? trace.getTracer('logsift');
    this.now = deps.now ?? (() => new Date());
    this.producer = kafka.producer({
      idempotent: true,
      // kafkajs keeps per-partition order with idempotence only with one request in flight.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2: the same key lands on the same partition as with other clients.
      createPartitioner: Partitioners.DefaultPartitioner,
      // The idempotent producer retries without limit (kafkajs warns otherwise); a broker outage
      // holds the batch, and its offsets, until the broker is back.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 250, maxRetryTime: 5_000 },
    });
    this.consumer = this.createConsumer();
    this.delivery = config.delivery.mode === 'exactly-once' ? this.exactlyOnce() : this.atLeastOnce();
    this.readAhead = config.delivery.mode === 'at-least-once' && config.delivery.readAhead;
    this.slots = new Slots(config.delivery.maxInFlightBatches);
    this.watchProducer();
  }

  private atLeastOnce(): Delivery {
    const { config } = this.deps;
    return new AtLeastOnceDelivery(this.producer, this.consumer, config.output.compression, config.delivery.maxRequestBytes);
  }

  private exactlyOnce(): Delivery {
    const { config, logger } = this.deps;
    return new ExactlyOnceDelivery({
      kafka: this.deps.kafka,
      consumer: () => this.consumer,
      groupId: config.input.groupId,
      transactionalIdPrefix: config.delivery.transactionalIdPrefix ?? `logsift-${config.input.groupId}`,
      compression: config.output.compression,
      logger,
      onFenced: (err) => {
        logger.fatal({ err, code: err.code }, 'fenced by another instance: committing nothing more; exiting');
        this.setState({ consumerJoined: false });
        this.onFatal(err);
      },
    });
  }

  private createConsumer(): Consumer {
    const { config } = this.deps;
    const consumer = this.deps.kafka.consumer({
      groupId: config.input.groupId,
      sessionTimeout: config.input.sessionTimeout,
      heartbeatInterval: config.input.heartbeatInterval,
      maxBytesPerPartition: config.delivery.maxBytesPerPartition,
      maxBytes: config.delivery.maxFetchBytes,
      // Short idle fetches keep FETCH events coming, which is how readiness sees the broker.
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
      // read_committed (kafkajs's default, explicit here): aborted and open transactions stay unseen.
      readUncommitted: false,
      retry: { retries: 8, initialRetryTime: 250, maxRetryTime: 10_000, restartOnFailure: async () => !this.stopping },
    });
    this.watchConsumer(consumer);
    return consumer;
  }

  private setState(change: Partial<ReadinessState>): void {
    Object.assign(this.readiness, change);
    this.observer.state(change);
  }

  private watchConsumer(consumer: Consumer): void {
    const c = consumer.events;
    consumer.on(c.GROUP_JOIN, (e) => {
      this.setState({ consumerJoined: true, brokerReachable: true });
      // A new generation fetches from the committed offsets: chunks queued before it are fetched again.
      this.dropQueued();
      this.delivery.assigned(e.payload.memberAssignment);
      this.deps.logger.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
    });
    consumer.on(c.FETCH, () => {
      this.lastFetch = Date.now();
      if (!this.readiness.brokerReachable) this.setState({ brokerReachable: true });
    });
    consumer.on(c.CRASH, (e) => {
      this.setState({ consumerJoined: false, brokerReachable: false });
      this.deps.logger.error({ err: e.payload.error, restart: e.payload.restart, code: 'LOGSIFT_KAFKA' }, 'consumer crashed; it restarts from the last committed offsets');
      // kafkajs does not restart after a non-retriable error (e.g. the group evicted this member
      // during an outage); a daemon must, or it sits idle.
      if (!e.payload.restart && !this.stopping && consumer === this.consumer) void this.restartConsumer();
    });
    consumer.on(c.DISCONNECT, () => this.setState({ consumerJoined: false }));
    consumer.on(c.REQUEST_TIMEOUT, () => this.setState({ brokerReachable: false }));
  }

  private restartConsumer(): Promise<void> {
    this.restarting ??= (async () => {
      let delay = 500;
      while (!this.stopping) {
        try {
          await this.consumer.disconnect().catch(() => undefined);
          this.dropQueued();
          this.consumer = this.createConsumer();
          if (this.deps.config.delivery.mode === 'at-least-once') this.delivery = this.atLeastOnce();
          await this.runConsumer();
          this.deps.logger.warn({ code: 'LOGSIFT_KAFKA' }, 'consumer restarted after a crash');
          return;
        } catch (err) {
          this.deps.logger.error({ err, code: 'LOGSIFT_KAFKA', retry_ms: delay }, 'consumer restart failed; retrying');
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
        }
      }
    })().finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  private watchProducer(): void {
    this.producer.on(this.producer.events.CONNECT, () => this.setState({ producerConnected: true }));
    this.producer.on(this.producer.events.DISCONNECT, () => this.setState({ producerConnected: false }));
  }

  private processOptions(): ProcessOptions {
    const { input, output } = this.deps.config;
    return {
      outputTopic: output.topic,
      unmatchedTopic: output.unmatchedTopic,
      dlqTopic: output.dlqTopic,
      key: output.key,
      format: input.format,
      fields: input.fields,
      maxMessageBytes: input.maxMessageBytes,
    };
  }

  private async runConsumer(): Promise<void> {
    const { input, delivery } = this.deps.config;
    const consumer = this.consumer;
    await consumer.connect();
    const topics: (string | RegExp)[] = input.topicPattern ? [new RegExp(input.topicPattern)] : input.topics;
    await consumer.subscribe({ topics, fromBeginning: input.fromBeginning });
    const base = this.processOptions();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: delivery.maxInFlightBatches,
      eachBatch: (payload) => this.onBatch(payload, base),
    });
  }

  /**
   * Connects the producer and starts the consumer group. On failure it disconnects what it opened
   * and rebuilds the consumer, so the caller can retry; it never leaves a half-started daemon.
   */
  async start(): Promise<void> {
    if (this.stopping) throw new Error('the daemon is stopping');
    try {
      await this.producer.connect();
      if (this.stopping) throw new Error('the daemon is stopping');
      const unreachableAfter = this.deps.config.kafka.unreachableAfter;
      this.lastFetch = Date.now();
      this.watchdog = setInterval(() => {
        if (this.readiness.brokerReachable && Date.now() - this.lastFetch > unreachableAfter) {
          this.deps.logger.warn({ code: 'LOGSIFT_KAFKA', since_ms: Date.now() - this.lastFetch }, 'no successful fetch: broker unreachable or the producer is blocked; not ready');
          this.setState({ brokerReachable: false });
        }
      }, Math.min(1000, unreachableAfter));
      this.watchdog.unref();
      await this.runConsumer();
    } catch (err) {
      await this.cleanUpFailedStart();
      throw err;
    }
  }

  private async cleanUpFailedStart(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const failed = this.consumer;
    if (!this.stopping) {
      // A fresh consumer for the next attempt; the failed one's events are ignored from now on.
      this.consumer = this.createConsumer();
      if (this.deps.config.delivery.mode === 'at-least-once') this.delivery = this.atLeastOnce();
    }
    await failed.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    this.setState({ consumerJoined: false, producerConnected: false, brokerReachable: false });
  }

  private async onBatch(payload: EachBatchPayload, base: ProcessOptions): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset, heartbeat } = payload;
    if (await this.delivery.realign(batch.topic, batch.partition)) return; // re-fetched from the committed offset
    if (this.readAhead) return this.queueBatch(payload, base);
    const chunkSize = this.deps.config.delivery.maxBatchMessages;
    const highWatermark = BigInt(batch.highWatermark);
    const live = (): boolean => isRunning() && !isStale() && !this.stopping;
    // Enrichment runs one chunk ahead of delivery: while a chunk is produced and committed, the next
    // one is being enriched (on a worker). Delivery, offsets and commits stay in order; a chunk
    // enriched but not delivered (stop, rebalance, a failure) is dropped and re-fetched from the
    // committed offset.
    let ahead: StartedChunk | null = null;
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      if (!live()) {
        ahead?.span.end();
        return; // the rest is re-fetched from the committed offset
      }
      const current: StartedChunk = ahead ?? this.startChunk(payload, base, batch.messages.slice(start, start + chunkSize));
      const nextStart = start + chunkSize;
      ahead = nextStart < batch.messages.length && live() ? this.startChunk(payload, base, batch.messages.slice(nextStart, nextStart + chunkSize)) : null;
      const work = this.finishChunk(payload, current, highWatermark);
      this.inFlight.add(work);
      try {
        await work;
      } catch (err) {
        ahead?.span.end();
        throw err;
      } finally {
        this.inFlight.delete(work);
      }
      resolveOffset(current.chunk[current.chunk.length - 1]!.offset);
      await heartbeat();
    }
  }

  /**
   * At-least-once read-ahead. kafkajs fetches again only once every batch of its last fetch has
   * returned from eachBatch, so a batch that waited for its delivery left both threads idle while
   * the fetch's slowest partitions finished and while the next fetch was read and decoded. Here a
   * batch returns once its chunks are queued: each takes a slot (delivery.maxInFlightBatches chunks
   * enriching or being delivered at most, which bounds memory), starts its enrichment, and is
   * delivered after the partition's earlier chunks (its chain). Offsets are resolved when queued, so
   * kafkajs fetches on; they are committed only after the chunk's records, and every earlier chunk's
   * of the partition, were acknowledged, as without read-ahead. A failed chunk sends the partition
   * back to its first offset (seek) and drops what was queued after it (epoch); that is fetched
   * again, after a backoff.
   */
  private async queueBatch(payload: EachBatchPayload, base: ProcessOptions): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset, heartbeat } = payload;
    const { topic, partition } = batch;
    const chunkSize = this.deps.config.delivery.maxBatchMessages;
    const highWatermark = BigInt(batch.highWatermark);
    const key = `${topic}:${partition}`;
    const chain = this.chains.get(key) ?? { tail: Promise.resolve(), epoch: 0, failures: 0 };
    this.chains.set(key, chain);
    const live = (): boolean => isRunning() && !isStale() && !this.stopping;
    const backoff = retryDelayMs(chain.failures);
    if (backoff > 0) await new Promise((r) => setTimeout(r, backoff));
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      await this.slots.acquire();
      if (!live()) {
        this.slots.release();
        return; // the rest is fetched again (stale: the partition was sent back)
      }
      const started = this.startChunk(payload, base, batch.messages.slice(start, start + chunkSize));
      const epoch = chain.epoch;
      const first = started.chunk[0]!.offset;
      const work = chain.tail
        .then(async () => {
          if (chain.epoch !== epoch || this.stopping) {
            started.span.end(); // dropped: not delivered, not committed, fetched again
            return;
          }
          try {
            await this.finishChunk(payload, started, highWatermark);
            chain.failures = 0;
          } catch (err) {
            // The first failure of an epoch sends the partition back; the chunks queued after it drop.
            if (chain.epoch !== epoch) return;
            chain.epoch++;
            chain.failures++;
            this.deps.logger.warn({ err, code: 'LOGSIFT_KAFKA', topic, partition, offset: first, retry_ms: retryDelayMs(chain.failures) }, 'chunk not delivered: the partition is fetched again from its first offset');
            try {
              this.consumer.seek({ topic, partition, offset: first });
            } catch (seekErr) {
              // Not running (stopping or restarting): the next generation starts from the committed offset anyway.
              this.deps.logger.debug({ err: seekErr, topic, partition }, 'seek skipped');
            }
          }
        })
        .finally(() => {
          this.slots.release();
          this.inFlight.delete(work);
        });
      this.inFlight.add(work);
      chain.tail = work;
      resolveOffset(started.chunk[started.chunk.length - 1]!.offset);
    }
    await heartbeat();
  }

  /** Read-ahead: nothing queued is delivered any more (it is fetched again). */
  private dropQueued(): void {
    for (const chain of this.chains.values()) chain.epoch++;
  }

  /** Starts a chunk's enrichment (on the processor's thread) and its span. */
  private startChunk(payload: EachBatchPayload, base: ProcessOptions, chunk: EachBatchPayload['batch']['messages']): StartedChunk {
    const { batch } = payload;
    const t0 = process.hrtime.bigint();
    const messages: InputMessage[] = chunk.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      timestamp: m.timestamp ?? null,
      key: m.key ?? null,
      value: m.value ?? null,
      headers: (m.headers ?? {}) as Record<string, HeaderValue>,
    }));
    const span = this.tracer.startSpan('logsift.batch', {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.destination.name': batch.topic, 'messaging.kafka.partition': batch.partition, 'messaging.batch.message_count': messages.length },
    });
    const processor = this.deps.processor();
    const kb = processor.kb;
    span.setAttribute('logsift.kb_version', kb.version);
    const enriched = processor.enrich(messages, base);
    enriched.catch(() => undefined); // awaited by finishChunk; a chunk dropped unfinished must not reject unhandled
    return { chunk, messages, span, kb, enriched, t0, base };
  }

  private async finishChunk(payload: EachBatchPayload, started: StartedChunk, highWatermark: bigint): Promise<void> {
    const { batch } = payload;
    const { chunk, messages, span, kb, t0, base } = started;
    const batchCtx = trace.setSpan(context.active(), span);
    const options: ProcessOptions = { ...base, decorate: (m, item, headers) => this.traceEvent(batchCtx, m, item, kb.version, headers) };
    try {
      const result = chunkRecords(messages, await started.enriched, options, this.now());
      const last = chunk[chunk.length - 1]!.offset;
      const next = (BigInt(last) + 1n).toString();
      let timing: { produceSeconds: number; commitSeconds: number };
      try {
        timing = await this.delivery.deliver(result.records, { topic: batch.topic, partition: batch.partition, offset: next });
      } catch (err) {
        this.observer.produceError(err as Error);
        this.deps.logger.warn({ err, code: 'LOGSIFT_KAFKA', topic: batch.topic, partition: batch.partition, offset: chunk[0]!.offset }, 'delivery failed; the batch will be retried');
        throw err;
      }
      for (const p of result.poison) {
        this.deps.logger.warn({ code: p.reason, topic: p.message.topic, partition: p.message.partition, offset: p.message.offset, detail: p.detail }, 'dead-lettered a poison message');
      }
      const primaryItems = result.items.filter((e) => e.matched);
      const report = {
        topic: batch.topic,
        partition: batch.partition,
        messages: messages.length,
        bytes: result.bytes,
        matched: result.matched,
        weak: result.weak,
        unmatched: result.unmatched,
        deadLettered: result.poison.length,
        produced: result.records.length,
        scanSeconds: result.scanSeconds,
        produceSeconds: timing.produceSeconds,
        commitSeconds: timing.commitSeconds,
        totalSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
        lag: Math.max(0, Number(highWatermark - BigInt(next))),
        // Records, not indexes: a SIGHUP may install another KB before this report is counted.
        primaries: primaryItems.map((e) => kb.heads[e.primary]!),
        primaryResources: primaryItems.map((e) => e.resource),
        dlqReasons: result.poison.map((p) => p.reason),
        traceId: span.spanContext().traceId,
      };
      this.observer.batch(report);
      if (this.deps.onUnmatched) {
        const mined: MinedText[] = [];
        for (const e of result.items) if (e.mined !== undefined) mined.push(e.mined);
        this.deps.onUnmatched(result.unmatched, mined);
      }
      this.deps.afterChunk?.(result.enriched);
    } finally {
      span.end();
    }
  }

  /**
   * A span per produced event: child of the input message's trace if it carried one, else of the
   * batch; linked to the log record's own trace context (OTLP trace_id/span_id) when it has one.
   */
  private traceEvent(batchCtx: Context, m: InputMessage, item: ChunkItem, kbVersion: string, headers: Record<string, Buffer | string>): void {
    const hasParent = m.headers[HEADER.traceparent] !== undefined;
    const parent = hasParent ? propagation.extract(batchCtx, m.headers, headerGetter) : batchCtx;
    const links: Link[] = hasParent ? [{ context: trace.getSpan(batchCtx)!.spanContext() }] : [];
    if (item.traceLink !== undefined) {
      links.push({ context: { traceId: item.traceLink.trace_id, spanId: item.traceLink.span_id, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { 'logsift.link': 'log_record' } });
    }
    const span = this.tracer.startSpan(
      'logsift.event',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'logsift.signature_id': item.signatureId ?? '',
          'logsift.kb_version': kbVersion,
          'messaging.kafka.partition': m.partition,
          'messaging.kafka.offset': m.offset,
          'messaging.destination.name': m.topic,
        },
        ...(links.length > 0 ? { links } : {}),
      },
      parent,
    );
    propagation.inject(trace.setSpan(parent, span), headers, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    span.end();
  }

  /** Stop fetching, finish the in-flight chunk, commit, leave the group, disconnect. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.deps.logger.info('stopping: finishing in-flight work, committing and leaving the group');
    // kafkajs drops commits made after disconnect() starts: let in-flight chunks commit first.
    await Promise.allSettled([...this.inFlight]);
    await this.restarting;
    try {
      await this.consumer.disconnect();
    } finally {
      await this.delivery.close();
      await this.producer.disconnect();
    }
    this.setState({ consumerJoined: false, producerConnected: false });
  }
}
