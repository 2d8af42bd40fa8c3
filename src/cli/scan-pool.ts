/**
 * `logsift scan --threads N`: worker threads that each get the main thread's KB (validated, filtered
 * and linted: its state, no files read again), load its databases from the cache the main thread
 * wrote, and render whole batches with the same per-message path (renderBatch). Batches go to the
 * least busy worker; runScan writes the results in input order and bounds how many are in flight.
 */
import type { Worker } from 'node:worker_threads';

import { ThreadNames, WorkerPool, siblingWorker, type EnricherInit } from '../app/worker-pool.js';
import { ErrorCodes, LogsiftError } from '../errors.js';
import type { FileSource, MessageInput } from '../enrich/index.js';
import type { SerializedUnicodePart } from '../matcher/matcher.js';
import type { BatchRenderer, RenderOptions, RenderedBatch } from './scan.js';

/** A scan worker's enricher, and how it renders. */
export interface ScanWorkerInit extends EnricherInit {
  render: RenderOptions;
}

/**
 * A batch as bytes (transferred, not cloned): the lines back to back, `offsets[i]..offsets[i+1]`;
 * `sizes[i]` is the size of a line too long to keep (-1 for the others).
 */
export interface ScanJob {
  data: Uint8Array;
  offsets: Uint32Array;
  lineNumbers: Uint32Array;
  sizes: Float64Array;
}

class ScanPool implements BatchRenderer {
  constructor(private readonly pool: WorkerPool<ScanJob, RenderedBatch>) {}

  render(inputs: readonly MessageInput[]): Promise<RenderedBatch> {
    let bytes = 0;
    for (const m of inputs) bytes += m.value?.length ?? 0;
    const data = new Uint8Array(bytes);
    const offsets = new Uint32Array(inputs.length + 1);
    const lineNumbers = new Uint32Array(inputs.length);
    const sizes = new Float64Array(inputs.length).fill(-1);
    let pos = 0;
    inputs.forEach((m, i) => {
      offsets[i] = pos;
      lineNumbers[i] = (m.source as FileSource).line;
      if (m.value) {
        data.set(m.value, pos);
        pos += m.value.length;
      } else sizes[i] = m.size ?? 0;
    });
    offsets[inputs.length] = pos;
    return this.pool.run({ data, offsets, lineNumbers, sizes }, [data.buffer, offsets.buffer, lineNumbers.buffer, sizes.buffer]);
  }

  attachUnicode(parts: SerializedUnicodePart[]): void {
    this.pool.attachUnicode(parts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const scanError = (message: string, cause?: Error): LogsiftError => new LogsiftError(ErrorCodes.SCAN_FAILED, `scan ${message}`, cause ? { cause } : {});

/** Starts `threads` workers and waits until each has built its enricher. */
export async function startScanPool(threads: number, init: ScanWorkerInit): Promise<ScanPool> {
  const spawn = (): Worker => siblingWorker(import.meta.url, 'scan-worker', init, ThreadNames.scan);
  return new ScanPool(await WorkerPool.start<ScanJob, RenderedBatch>({ threads, spawn, error: scanError }));
}

export type { ScanPool };
