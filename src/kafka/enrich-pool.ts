/**
 * The daemon's enrichment workers (`match.workers`): phase 1 of a chunk (decode, extract, scan, rank,
 * encode: records.ts `enrichChunk`) runs on worker threads, so that the event loop is left with
 * Kafka's fetch, produce and commit, and they overlap with matching. The chunk crosses as bytes
 * (values and keys back to back, transferred) and comes back as columns plus the events' UTF-8 bytes
 * (transferred), from which the event loop builds the records (phase 2, `chunkRecords`). Mining's
 * selection of unmatched texts runs there too, on the text the worker extracted: the event loop only
 * adds the chosen texts to the stream's miner.
 */
import type { Worker } from 'node:worker_threads';

import { ThreadNames, WorkerPool, siblingWorker, type EnricherInit } from '../app/worker-pool.js';
import type { EventResource } from '../enrich/index.js';
import { ErrorCodes, LogsiftError } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import type { SerializedUnicodePart } from '../matcher/index.js';
import type { ErrorLineOptions, MinedText } from '../suggest/index.js';
import { HEADER, headerString, type ChunkItem, type ChunkProcessor, type DlqReason, type EnrichedChunk, type InputMessage, type ProcessOptions } from './records.js';

/** A chunk as it crosses: one topic-partition's messages; `spans` holds key start/end and value start/end in `data` (-1: null). */
export interface EnrichJob {
  topic: string;
  partition: number;
  offsets: string[];
  timestamps: (string | null)[];
  data: Uint8Array;
  spans: Int32Array;
  /** content-type headers (OTLP detection), by message index; the other headers stay on the event loop. */
  contentTypes: Record<number, string>;
  options: Omit<ProcessOptions, 'decorate'>;
}

/** Item columns, ITEM_COLUMNS per item: owner, primary (-1), flags, value start, value end (-1: no event). */
export const ITEM_COLUMNS = 5;
export const FLAG_MATCHED = 1;
export const FLAG_WEAK = 2;

export interface EnrichReply {
  kbVersion: string;
  bytes: number;
  scanSeconds: number;
  poison: { owner: number; reason: DlqReason; detail: string }[];
  columns: Int32Array;
  /** The events' values (JSON, UTF-8) back to back. */
  values: Uint8Array;
  /** By item index, only where set. */
  resources: Record<number, EventResource>;
  traceLinks: Record<number, { trace_id: string; span_id: string }>;
  /** By item index: the unmatched texts chosen for mining (ChunkItem.mined). */
  mined: Record<number, MinedText>;
}

/** Packs a chunk for a worker: the buffers to transfer are the job's own. */
export function packJob(messages: readonly InputMessage[], options: Omit<ProcessOptions, 'decorate'>): EnrichJob {
  let size = 0;
  for (const m of messages) size += (m.key?.length ?? 0) + (m.value?.length ?? 0);
  const data = new Uint8Array(size);
  const spans = new Int32Array(messages.length * 4);
  const contentTypes: Record<number, string> = {};
  let pos = 0;
  const put = (b: Buffer | null, at: number): void => {
    if (b === null) {
      spans[at] = spans[at + 1] = -1;
      return;
    }
    data.set(b, pos);
    spans[at] = pos;
    pos += b.length;
    spans[at + 1] = pos;
  };
  messages.forEach((m, i) => {
    put(m.key, i * 4);
    put(m.value, i * 4 + 2);
    const ct = headerString(m.headers, HEADER.contentType);
    if (ct !== undefined) contentTypes[i] = ct;
  });
  return {
    topic: messages[0]?.topic ?? '',
    partition: messages[0]?.partition ?? 0,
    offsets: messages.map((m) => m.offset),
    timestamps: messages.map((m) => m.timestamp),
    data,
    spans,
    contentTypes,
    options,
  };
}

/** The worker's view of a job: InputMessages over the transferred bytes. */
export function unpackJob(job: EnrichJob): InputMessage[] {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  const slice = (a: number, b: number): Buffer | null => (a < 0 ? null : data.subarray(a, b));
  return job.offsets.map((offset, i) => {
    const ct = job.contentTypes[i];
    return {
      topic: job.topic,
      partition: job.partition,
      offset,
      timestamp: job.timestamps[i] ?? null,
      key: slice(job.spans[i * 4]!, job.spans[i * 4 + 1]!),
      value: slice(job.spans[i * 4 + 2]!, job.spans[i * 4 + 3]!),
      headers: ct === undefined ? {} : { [HEADER.contentType]: ct },
    };
  });
}

/** The worker's answer: the enriched chunk as columns and bytes. */
export function packReply(chunk: EnrichedChunk): EnrichReply {
  const n = chunk.items.length;
  const columns = new Int32Array(n * ITEM_COLUMNS);
  let size = 0;
  for (const item of chunk.items) if (item.value !== null) size += Buffer.byteLength(item.value as string, 'utf8');
  const values = Buffer.allocUnsafeSlow(size);
  const resources: Record<number, EventResource> = {};
  const traceLinks: Record<number, { trace_id: string; span_id: string }> = {};
  const mined: Record<number, MinedText> = {};
  let pos = 0;
  chunk.items.forEach((item, k) => {
    const at = k * ITEM_COLUMNS;
    columns[at] = item.owner;
    columns[at + 1] = item.primary;
    columns[at + 2] = (item.matched ? FLAG_MATCHED : 0) | (item.weak ? FLAG_WEAK : 0);
    if (item.value === null) columns[at + 3] = columns[at + 4] = -1;
    else {
      columns[at + 3] = pos;
      pos += values.write(item.value as string, pos, 'utf8');
      columns[at + 4] = pos;
    }
    if (item.resource !== undefined) resources[k] = item.resource;
    if (item.traceLink !== undefined) traceLinks[k] = item.traceLink;
    if (item.mined !== undefined) mined[k] = item.mined;
  });
  return { kbVersion: chunk.kbVersion, bytes: chunk.bytes, scanSeconds: chunk.scanSeconds, poison: chunk.poison, columns, values: new Uint8Array(values.buffer, 0, size), resources, traceLinks, mined };
}

/** The event loop's view of a reply; signature ids come from this thread's copy of the same KB. */
export function unpackReply(reply: EnrichReply, kb: KnowledgeBase): EnrichedChunk {
  const values = Buffer.from(reply.values.buffer, reply.values.byteOffset, reply.values.byteLength);
  const c = reply.columns;
  const n = c.length / ITEM_COLUMNS;
  const items = new Array<ChunkItem>(n);
  for (let k = 0; k < n; k++) {
    const at = k * ITEM_COLUMNS;
    const primary = c[at + 1]!;
    const item: ChunkItem = {
      owner: c[at]!,
      matched: (c[at + 2]! & FLAG_MATCHED) !== 0,
      weak: (c[at + 2]! & FLAG_WEAK) !== 0,
      primary,
      signatureId: primary < 0 ? null : kb.heads[primary]!.id,
      value: c[at + 3]! < 0 ? null : values.subarray(c[at + 3]!, c[at + 4]!),
    };
    const resource = reply.resources[k];
    if (resource !== undefined) item.resource = resource;
    const link = reply.traceLinks[k];
    if (link !== undefined) item.traceLink = link;
    const text = reply.mined[k];
    if (text !== undefined) item.mined = text;
    items[k] = item;
  }
  return { kbVersion: reply.kbVersion, items, poison: reply.poison, bytes: reply.bytes, scanSeconds: reply.scanSeconds };
}

/** A worker's start: the enricher's, and the error-line options of unmatched-message mining (null: no mining). */
export interface EnrichWorkerInit extends EnricherInit {
  mining: ErrorLineOptions | null;
}

export interface EnrichPoolOptions {
  workers: number;
  init: EnrichWorkerInit;
  onReplaced?: (reason: string) => void;
}

const poolError = (message: string, cause?: Error): LogsiftError => new LogsiftError(ErrorCodes.SCAN_FAILED, `enrichment ${message}`, cause ? { cause } : {});

/** Phase 1 on enrichment workers, for one KB: a reload starts a new pool and retires this one. */
export class EnrichPool implements ChunkProcessor {
  private retired = false;
  private inFlight = 0;
  private drained: (() => void) | null = null;

  private constructor(
    readonly kb: KnowledgeBase,
    private readonly pool: WorkerPool<EnrichJob, EnrichReply>,
  ) {}

  static async start(kb: KnowledgeBase, options: EnrichPoolOptions): Promise<EnrichPool> {
    const spawn = (): Worker => siblingWorker(import.meta.url, 'enrich-worker', options.init, ThreadNames.enrich);
    const pool = await WorkerPool.start<EnrichJob, EnrichReply>({ threads: options.workers, spawn, error: poolError, ...(options.onReplaced ? { onReplaced: options.onReplaced } : {}) });
    return new EnrichPool(kb, pool);
  }

  async enrich(messages: readonly InputMessage[], options: Omit<ProcessOptions, 'decorate'>): Promise<EnrichedChunk> {
    const job = packJob(messages, options);
    this.inFlight++;
    try {
      return unpackReply(await this.pool.run(job, [job.data.buffer as ArrayBuffer, job.spans.buffer as ArrayBuffer]), this.kb);
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  attachUnicode(parts: SerializedUnicodePart[]): void {
    if (!this.retired) this.pool.attachUnicode(parts);
  }

  get closed(): boolean {
    return this.retired;
  }

  /** Closes the workers once the chunks they are enriching are back (a reload installed another pool). */
  async retire(): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.pool.close();
  }
}
