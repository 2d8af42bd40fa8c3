/**
 * The daemon's enrichment workers (`match.workers`): phase 1 of a chunk (decode, extract, scan, rank,
 * encode: records.ts `enrichChunk`) runs on worker threads, so that the event loop is left with
 * Kafka's fetch, produce and commit, and they overlap with matching. The chunk crosses as bytes
 * (values and keys back to back, transferred) and comes back as columns plus the events' UTF-8 bytes
 * (transferred), from which the event loop builds the records (phase 2, `chunkRecords`). Mining's
 * selection of unmatched texts runs there too, on the text the worker extracted: the event loop only
 * adds the chosen texts to the stream's miner.
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';

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

/** The worker's view of messages `from` to `to` of a job: InputMessages over the transferred bytes. */
export function unpackJob(job: EnrichJob, from = 0, to = job.offsets.length): InputMessage[] {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  const slice = (a: number, b: number): Buffer | null => (a < 0 ? null : data.subarray(a, b));
  const out = new Array<InputMessage>(to - from);
  for (let i = from; i < to; i++) {
    const ct = job.contentTypes[i];
    out[i - from] = {
      topic: job.topic,
      partition: job.partition,
      offset: job.offsets[i]!,
      timestamp: job.timestamps[i] ?? null,
      key: slice(job.spans[i * 4]!, job.spans[i * 4 + 1]!),
      value: slice(job.spans[i * 4 + 2]!, job.spans[i * 4 + 3]!),
      headers: ct === undefined ? {} : { [HEADER.contentType]: ct },
    };
  }
  return out;
}

/**
 * Messages a worker enriches at a time within a job. A job is up to `delivery.maxBatchMessages` (5,000)
 * messages, and one enriched whole kept every message's text, ranking and event alive until its end:
 * more than V8's young generation holds, so scavenges copied it and promoted it, and the old
 * generation's marking collected it again (in bench:pipeline the worker promoted 0.65 KB of the
 * 4 KB it allocated per message; 0.42 KB in slices). In slices, each slice's events go into the
 * reply's bytes before the next starts, so the live objects stay a slice's worth and die young.
 * `logsift scan` hands its workers batches of the same size (DEFAULT_BATCH_LINES).
 */
export const ENRICH_SLICE = 256;

/** Enriches a job `slice` messages at a time (`enrich`: phase 1 of some messages) into one reply: the worker's side of a job. */
export function enrichJob(job: EnrichJob, enrich: (messages: InputMessage[]) => EnrichedChunk, slice = ENRICH_SLICE): EnrichReply {
  const reply = new ReplyBuilder();
  const n = job.offsets.length;
  let at = 0;
  do {
    reply.add(enrich(unpackJob(job, at, Math.min(n, at + slice))), at);
    at += slice;
  } while (at < n);
  return reply.finish();
}

/** The worker's answer, built slice by slice: item columns and the events' bytes (off the V8 heap) grow as slices are added. */
class ReplyBuilder {
  private kbVersion = '';
  private bytes = 0;
  private scanSeconds = 0;
  private readonly poison: EnrichReply['poison'] = [];
  private columns = new Int32Array(ENRICH_SLICE * ITEM_COLUMNS);
  private items = 0;
  private values = Buffer.allocUnsafeSlow(64 * 1024);
  private size = 0;
  private readonly resources: Record<number, EventResource> = {};
  private readonly traceLinks: Record<number, { trace_id: string; span_id: string }> = {};
  private readonly mined: Record<number, MinedText> = {};

  /** Adds a slice's enrichment; its owners are message indexes within the slice, which starts at message `first` of the job. */
  add(chunk: EnrichedChunk, first: number): void {
    this.kbVersion = chunk.kbVersion;
    this.bytes += chunk.bytes;
    this.scanSeconds += chunk.scanSeconds;
    for (const p of chunk.poison) this.poison.push({ ...p, owner: p.owner + first });
    const need = (this.items + chunk.items.length) * ITEM_COLUMNS;
    if (this.columns.length < need) {
      const grown = new Int32Array(Math.max(need, this.columns.length * 2));
      grown.set(this.columns.subarray(0, this.items * ITEM_COLUMNS));
      this.columns = grown;
    }
    for (const item of chunk.items) {
      const k = this.items++;
      const at = k * ITEM_COLUMNS;
      const columns = this.columns;
      columns[at] = item.owner + first;
      columns[at + 1] = item.primary;
      columns[at + 2] = (item.matched ? FLAG_MATCHED : 0) | (item.weak ? FLAG_WEAK : 0);
      if (item.value === null) columns[at + 3] = columns[at + 4] = -1;
      else {
        const value = item.value as string;
        this.reserve(value.length * 3);
        columns[at + 3] = this.size;
        this.size += this.values.write(value, this.size, 'utf8');
        columns[at + 4] = this.size;
      }
      if (item.resource !== undefined) this.resources[k] = item.resource;
      if (item.traceLink !== undefined) this.traceLinks[k] = item.traceLink;
      if (item.mined !== undefined) this.mined[k] = item.mined;
    }
  }

  /** Room for `bytes` more bytes of events (UTF-8 takes at most 3 bytes per UTF-16 unit). */
  private reserve(bytes: number): void {
    if (this.size + bytes <= this.values.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.size + bytes, this.values.length * 2));
    this.values.copy(grown, 0, 0, this.size);
    this.values = grown;
  }

  finish(): EnrichReply {
    return {
      kbVersion: this.kbVersion,
      bytes: this.bytes,
      scanSeconds: this.scanSeconds,
      poison: this.poison,
      columns: this.columns.subarray(0, this.items * ITEM_COLUMNS),
      values: new Uint8Array(this.values.buffer, 0, this.size),
      resources: this.resources,
      traceLinks: this.traceLinks,
      mined: this.mined,
    };
  }
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
  /** Each worker's V8 heap bounds (match.workerYoungGeneration); none: Node's own. */
  resourceLimits?: ResourceLimits;
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
    const spawn = (): Worker => siblingWorker(import.meta.url, 'enrich-worker', options.init, ThreadNames.enrich, options.resourceLimits);
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

  /** A worker's V8 heap bounds as it runs them (`maxYoungGenerationSizeMb`: match.workerYoungGeneration or Node's own). */
  get resourceLimits(): ResourceLimits | undefined {
    return this.pool.resourceLimits;
  }

  /** Closes the workers once the chunks they are enriching are back (a reload installed another pool). */
  async retire(): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.pool.close();
  }
}
