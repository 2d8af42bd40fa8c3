/**
 * `logsift scan --threads N`: worker threads that each load the KB and matcher from the cache
 * (snapshot and databases written by the main thread) and scan, rank and encode whole batches with
 * the same synchronous Enricher/Matcher API as the main thread. Batches go to the least busy worker;
 * runScan writes the results in input order and bounds how many are in flight.
 */
import { Worker } from 'node:worker_threads';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { SerializedUnicodePart } from '../matcher/matcher.js';
import type { BatchRenderer, RenderedBatch, ScanOptions } from './scan.js';

/** What a worker needs to load the same KB and matcher as the main thread, from the cache. */
export interface ScanWorkerInit {
  kbPaths: string[];
  allowInvalid: boolean;
  ignoreCase: boolean;
  cacheDir: string;
  fields: string[];
  inputFormat: ScanOptions['inputFormat'];
  emit: ScanOptions['emit'];
  format: ScanOptions['format'];
  fileName: string;
  /** The KB version the main thread loaded: a worker that loads another one refuses to start. */
  kbVersion: string;
}

export type WorkerRequest =
  | { type: 'batch'; id: number; data: Uint8Array; offsets: Uint32Array; lineNumbers: Uint32Array }
  | { type: 'unicode'; parts: SerializedUnicodePart[] };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; text: Uint8Array; cuts: Uint32Array; primary: Int32Array }
  | { type: 'batch-failed'; id: number; message: string };

const here = import.meta.url;
/**
 * The worker module beside this one: compiled JavaScript, or, when this module runs as TypeScript
 * (tests, benchmarks under tsx), a small loader that registers tsx in the worker first.
 */
function newWorker(init: ScanWorkerInit): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL('./scan-worker.js', here), { workerData: init });
  // Only from the TypeScript sources (tests and benchmarks, run from the repository): `tsx` resolves there.
  const entry = new URL('./scan-worker.ts', here).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

interface Slot {
  worker: Worker;
  busy: number;
}

class WorkerPool implements BatchRenderer {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: RenderedBatch) => void; reject: (e: Error) => void; slot: Slot }>();
  private failure: Error | null = null;

  constructor(private readonly slots: Slot[]) {
    for (const slot of slots) {
      slot.worker.on('message', (m: WorkerReply) => this.onReply(slot, m));
      slot.worker.on('error', (err) => this.fail(new LogsiftError(ErrorCodes.SCAN_FAILED, `scan worker failed: ${err.message}`, { cause: err })));
      slot.worker.on('exit', (code) => {
        if (code !== 0 && !this.closed) this.fail(new LogsiftError(ErrorCodes.SCAN_FAILED, `scan worker exited with code ${code}`));
      });
    }
  }

  private closed = false;

  private onReply(slot: Slot, m: WorkerReply): void {
    if (m.type !== 'result' && m.type !== 'batch-failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    slot.busy--;
    if (m.type === 'result') p.resolve({ text: Buffer.from(m.text.buffer, m.text.byteOffset, m.text.byteLength), cuts: m.cuts, primary: m.primary });
    else p.reject(new LogsiftError(ErrorCodes.SCAN_FAILED, m.message));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  render(lines: readonly Buffer[], lineNumbers: readonly number[]): Promise<RenderedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    let bytes = 0;
    for (const l of lines) bytes += l.length;
    const data = new Uint8Array(bytes);
    const offsets = new Uint32Array(lines.length + 1);
    let pos = 0;
    lines.forEach((l, i) => {
      offsets[i] = pos;
      data.set(l, pos);
      pos += l.length;
    });
    offsets[lines.length] = pos;
    const id = this.nextId++;
    slot.busy++;
    const request: WorkerRequest = { type: 'batch', id, data, offsets, lineNumbers: Uint32Array.from(lineNumbers) };
    return new Promise<RenderedBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage(request, [data.buffer, offsets.buffer, request.lineNumbers.buffer as ArrayBuffer]);
    });
  }

  /** Hands the Unicode database to every worker once the main thread has it (cold start). */
  attachUnicode(parts: SerializedUnicodePart[]): void {
    const request: WorkerRequest = { type: 'unicode', parts };
    for (const s of this.slots) s.worker.postMessage(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** Starts `threads` workers and waits until each has loaded the KB and matcher. */
export async function startScanPool(threads: number, init: ScanWorkerInit): Promise<WorkerPool> {
  const slots: Slot[] = [];
  try {
    for (let i = 0; i < threads; i++) slots.push({ worker: newWorker(init), busy: 0 });
    await Promise.all(
      slots.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (m: WorkerReply): void => {
              if (m.type === 'ready') resolve();
              else if (m.type === 'failed') reject(new LogsiftError(ErrorCodes.SCAN_FAILED, `scan worker could not start: ${m.message}`));
              else return;
              s.worker.off('message', onMessage);
            };
            s.worker.on('message', onMessage);
            s.worker.once('error', reject);
            s.worker.once('exit', (code) => reject(new LogsiftError(ErrorCodes.SCAN_FAILED, `scan worker exited with code ${code} while starting`)));
          }),
      ),
    );
  } catch (err) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw err;
  }
  return new WorkerPool(slots);
}

export type { WorkerPool };
