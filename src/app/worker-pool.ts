/**
 * Worker threads that each build the same enricher as the main thread and take jobs from it: the
 * thread pool shared by `logsift scan --threads` and the daemon's enrichment workers. Jobs go to the
 * least busy worker; a worker that dies is replaced (its jobs fail, the caller retries them), and the
 * Unicode database, when the main thread finishes compiling it, is handed to every worker, present
 * and future.
 */
import { Worker, parentPort, type ResourceLimits, type Transferable } from 'node:worker_threads';

import { Enricher, type EnrichOptions } from '../enrich/index.js';
import { openKbSource, type KbSource } from '../kb/snapshot.js';
import { EXACT_THREAD_NAME, Matcher, type SerializedUnicodePart } from '../matcher/index.js';

/** What a worker needs to build the same enricher as the main thread: its KB (kbSource), no files read again. */
export interface EnricherInit {
  kb: KbSource;
  /** `prewarm`: boot the exact engine's thread at start (default true; one-shot commands pass false). */
  matcher: { ignoreCase: boolean; cacheDir: string; exactBudgetMs: number; prebuiltDirs: string[]; prewarm?: boolean };
  enrich: EnrichOptions;
}

/**
 * The worker's enricher. The main thread compiled and cached the databases; the Unicode one may still
 * be compiling there, in which case it is attached when posted ('unicode') and the exact engine
 * serves the messages that need it meanwhile.
 */
export async function workerEnricher(init: EnricherInit): Promise<{ enricher: Enricher; unicode: (parts: SerializedUnicodePart[]) => void }> {
  const kb = openKbSource(init.kb);
  const matcher = await Matcher.create(kb, { ...init.matcher, unicode: 'cache-only' });
  return {
    enricher: new Enricher(kb, matcher, init.enrich),
    unicode: (parts) => {
      if (!matcher.unicodeComplete) matcher.attachUnicode(parts);
    },
  };
}

export type ToWorker<J> = { type: 'job'; id: number; job: J } | { type: 'unicode'; parts: SerializedUnicodePart[] };

export type FromWorker<R> =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; result: R }
  | { type: 'job-failed'; id: number; message: string };

/**
 * The OS thread names of logsift's worker threads (Node 24 and later name a worker's thread after its
 * `name`; Linux keeps 15 characters): what `top -H`, `ps -L` and /proc/PID/task/TID/comm show, and
 * what bench:pipeline reports CPU by. The event loop is Node's `node-MainThread`.
 */
export const ThreadNames = {
  /** The daemon's enrichment workers (match.workers). */
  enrich: 'logsift-enrich',
  /** `logsift scan --threads` workers. */
  scan: 'logsift-scan',
  /** The exact engine's budgeted regex thread and its stand-by. */
  exact: EXACT_THREAD_NAME,
} as const;

export type ThreadName = (typeof ThreadNames)[keyof typeof ThreadNames];

/**
 * A worker running `moduleUrl`: compiled JavaScript, or, when that module is TypeScript (tests and
 * benchmarks under tsx, from the repository), a small loader that registers tsx in the worker first.
 * `threadName` names its OS thread (see {@link ThreadNames}); `resourceLimits` bounds its V8 heap.
 */
export function moduleWorker(moduleUrl: URL, workerData: unknown, threadName: ThreadName, resourceLimits?: ResourceLimits): Worker {
  const limits = resourceLimits ? { resourceLimits } : {};
  if (!moduleUrl.href.endsWith('.ts')) return new Worker(moduleUrl, { workerData, name: threadName, ...limits });
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(code, { eval: true, workerData, name: threadName, ...limits });
}

/**
 * The worker module `name` beside the module at `from` (its `import.meta.url`): `name.js` when compiled,
 * `name.ts` when that module itself runs as TypeScript.
 */
export function siblingWorker(from: string, name: string, workerData: unknown, threadName: ThreadName, resourceLimits?: ResourceLimits): Worker {
  return moduleWorker(new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from), workerData, threadName, resourceLimits);
}

interface Slot {
  worker: Worker;
  busy: number;
  /** Resolves once the worker has built its enricher; rejects if it cannot. */
  ready: Promise<void>;
}

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

export interface PoolOptions {
  threads: number;
  spawn: () => Worker;
  /** Builds the error a failed job or worker rejects with (the caller's error code). */
  error: (message: string, cause?: Error) => Error;
  /** Called when a worker died and was replaced (the daemon logs it). */
  onReplaced?: (reason: string) => void;
}

export class WorkerPool<J, R> {
  private nextId = 0;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending<R> & { slot: Slot }>();
  private unicode: SerializedUnicodePart[] | null = null;
  private closed = false;

  private constructor(private readonly options: PoolOptions) {}

  /** Starts the workers and waits until each has built its enricher. */
  static async start<J, R>(options: PoolOptions): Promise<WorkerPool<J, R>> {
    const pool = new WorkerPool<J, R>(options);
    for (let i = 0; i < options.threads; i++) pool.slots.push(pool.spawn());
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private spawn(): Slot {
    const worker = this.options.spawn();
    const slot: Slot = { worker, busy: 0, ready: Promise.resolve() };
    slot.ready = new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromWorker<R>) => {
        if (m.type === 'ready') {
          started = true;
          if (this.unicode) worker.postMessage({ type: 'unicode', parts: this.unicode } satisfies ToWorker<J>);
          resolve();
        } else if (m.type === 'failed') reject(this.options.error(`worker could not start: ${m.message}`));
        else this.onReply(m);
      });
      worker.on('error', (err: Error) => (started ? this.lost(slot, `worker failed: ${err.message}`, err) : reject(this.options.error(`worker failed while starting: ${err.message}`, err))));
      worker.on('exit', (code) => {
        if (!started) reject(this.options.error(`worker exited with code ${code} while starting`));
        else if (!this.closed) this.lost(slot, `worker exited with code ${code}`);
      });
    });
    // Rejections are seen by whoever awaits `ready` (start, run); not an unhandled rejection here.
    slot.ready.catch(() => undefined);
    return slot;
  }

  /** A worker died: its jobs fail (the caller retries them) and a new one takes its place. */
  private lost(slot: Slot, reason: string, cause?: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.reject(this.options.error(reason, cause));
    }
    void slot.worker.terminate();
    this.slots[i] = this.spawn();
    this.options.onReplaced?.(reason);
  }

  private onReply(m: FromWorker<R>): void {
    if (m.type !== 'done' && m.type !== 'job-failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.slot.busy--;
    if (m.type === 'done') p.resolve(m.result);
    else p.reject(this.options.error(m.message));
  }

  /** Runs one job on the least busy worker; `transfer` lists the job's buffers to move, not copy. */
  async run(job: J, transfer: Transferable[] = []): Promise<R> {
    if (this.closed) throw this.options.error('the worker pool is closed');
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    slot.busy++;
    try {
      await slot.ready;
    } catch (err) {
      slot.busy--;
      // A replacement that could not start is replaced again for the next job (the caller retries).
      this.lost(slot, (err as Error).message);
      throw err;
    }
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ type: 'job', id, job } satisfies ToWorker<J>, transfer);
    });
  }

  /** The first worker's V8 heap bounds as it runs them (Node's own sizes where none were given); known once it is ready. */
  get resourceLimits(): ResourceLimits | undefined {
    return this.slots[0]?.worker.resourceLimits;
  }

  /** Hands the Unicode database to every worker once the main thread has it (cold start). */
  attachUnicode(parts: SerializedUnicodePart[]): void {
    this.unicode = parts;
    for (const s of this.slots) s.worker.postMessage({ type: 'unicode', parts } satisfies ToWorker<J>);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(this.options.error('the worker pool closed'));
    this.pending.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** What a worker module does with jobs once started. */
export interface JobHandler<J, R> {
  run(job: J): { result: R; transfer?: Transferable[] };
  unicode(parts: SerializedUnicodePart[]): void;
}

/**
 * The worker side: builds the handler (the enricher), says ready or failed, then answers jobs. A job
 * that throws fails alone (`job-failed`); the worker goes on.
 */
export function serveJobs<J, R>(start: () => Promise<JobHandler<J, R>>): void {
  const port = parentPort!;
  const reply = (m: FromWorker<R>, transfer: Transferable[] = []): void => port.postMessage(m, transfer);
  start().then(
    (handler) => {
      port.on('message', (m: ToWorker<J>) => {
        if (m.type === 'unicode') {
          handler.unicode(m.parts);
          return;
        }
        try {
          const { result, transfer } = handler.run(m.job);
          reply({ type: 'done', id: m.id, result }, transfer);
        } catch (err) {
          reply({ type: 'job-failed', id: m.id, message: (err as Error).message });
        }
      });
      reply({ type: 'ready' });
    },
    (err: unknown) => reply({ type: 'failed', message: (err as Error).message }),
  );
}
