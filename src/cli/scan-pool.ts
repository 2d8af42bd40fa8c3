/**
 * `logsift scan --threads N`: worker threads that each get the main thread's KB (validated, filtered
 * and linted: its state, no files read again), load its databases from the cache the main thread
 * wrote, and render whole batches with the same per-message path (renderBatch). Batches go to the
 * least busy worker; runScan writes the results in input order and bounds how many are in flight.
 */
import { Worker } from 'node:worker_threads';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { EnrichOptions, FileSource, MessageInput } from '../enrich/index.js';
import type { KnowledgeBaseState } from '../kb/knowledge-base.js';
import type { SerializedUnicodePart } from '../matcher/matcher.js';
import type { BatchRenderer, RenderOptions, RenderedBatch } from './scan.js';

/** What a worker needs to build the same enricher as the main thread. */
export interface ScanWorkerInit {
  kb: KnowledgeBaseState;
  matcher: { ignoreCase: boolean; cacheDir: string; exactBudgetMs: number; prebuiltDirs: string[] };
  enrich: EnrichOptions;
  render: RenderOptions;
}

/**
 * A batch as bytes (transferred, not cloned): the lines back to back, `offsets[i]..offsets[i+1]`;
 * `sizes[i]` is the size of a line too long to keep (-1 for the others).
 */
export type WorkerRequest =
  | { type: 'batch'; id: number; data: Uint8Array; offsets: Uint32Array; lineNumbers: Uint32Array; sizes: Float64Array }
  | { type: 'unicode'; parts: SerializedUnicodePart[] };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; batch: RenderedBatch }
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
      slot.worker.on('error', (err: Error) => this.fail(new LogsiftError(ErrorCodes.SCAN_FAILED, `scan worker failed: ${err.message}`, { cause: err })));
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
    if (m.type === 'result') p.resolve(m.batch);
    else p.reject(new LogsiftError(ErrorCodes.SCAN_FAILED, m.message));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  render(inputs: readonly MessageInput[]): Promise<RenderedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
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
    const id = this.nextId++;
    slot.busy++;
    const request: WorkerRequest = { type: 'batch', id, data, offsets, lineNumbers, sizes };
    return new Promise<RenderedBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage(request, [data.buffer, offsets.buffer, lineNumbers.buffer, sizes.buffer]);
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

/** Starts `threads` workers and waits until each has built its enricher. */
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
