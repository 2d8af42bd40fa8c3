/**
 * The exact engine: JavaScript RegExps that confirm prefilter candidates, run fallback records and
 * give match spans for the ranking's tie-break. RegExps backtrack (`(?=(a+)+b)a` on 35 characters
 * runs for minutes), so every RegExp that is not linear by construction runs in a worker thread
 * that the caller waits on with `Atomics.wait` and a deadline: the caller — the event loop — never
 * blocks longer than the budget for one message. On a timeout the worker is terminated (V8 stops a
 * running RegExp) and replaced; the message's undecided records are reported, not guessed.
 *
 * Linear by construction (run inline): no quantifier and no back-reference, so a backtracking
 * matcher does a bounded amount of work per start position.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

import { ErrorCodes, LogsiftError } from '../errors.js';
import type { PlannedPattern } from './plan.js';

/** Default time budget of one message's exact-engine work, in milliseconds. */
export const DEFAULT_EXACT_BUDGET_MS = 50;
/** How long a (re)started worker may take to boot; not counted against any message's budget. */
const BOOT_TIMEOUT_MS = 10_000;
/**
 * How long a task may wait for the worker to pick it up (thread scheduling on a loaded machine);
 * the budget starts when the worker starts the task, so CPU contention does not make false timeouts.
 */
const START_GRACE_MS = 1000;
/**
 * And, per RegExp of the task, the time the worker may take to compile it before starting (a cold
 * worker compiles on first use; 488 RegExps took over a second on Node 22 on a loaded machine).
 * Compiling is bounded by the pattern's size, whatever the message: this is not the message's budget.
 */
const COMPILE_GRACE_MS = 10;
const DONE = 0;
const READY = 1;
const STARTED = 2;

/** Runs in the worker (CommonJS, eval'd): tasks in on the port, one reply per task, then DONE += 1. */
/** The OS thread name of the exact engine's worker and its stand-by (Node 24 and later). */
export const EXACT_THREAD_NAME = 'logsift-exact';

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.ctrl);
const port = workerData.port;
const sources = workerData.sources;
const cache = new Map();
function re(i) {
  let r = cache.get(i);
  if (r === undefined) { r = new RegExp(sources[i][0], sources[i][1]); cache.set(i, r); }
  r.lastIndex = 0;
  return r;
}
// V8 compiles a RegExp on its first use, once per string representation (one-byte, two-byte): 488
// cold RegExps take longer than a 50 ms budget. So a RegExp is compiled before the task that needs it
// says STARTED: compiling is bounded by the pattern's size and is not the message's work. (Compiling
// them all in the background was tried: its slices delayed the ranking's span calls, whose waits add
// up against one deadline per message.)
const warm = new Uint8Array(sources.length);
function prepare(i) {
  if (warm[i] === 1) return;
  warm[i] = 1;
  // Twice each: V8 interprets a RegExp's first run and compiles it to machine code on the next.
  try { for (const s of ['x', 'x', '\\u0100', '\\u0100']) re(i).test(s); } catch {}
}
port.on('message', (tasks) => {
  for (const t of tasks) {
    for (const p of t.patterns) prepare(p);
    Atomics.add(ctrl, 2, 1);
    Atomics.notify(ctrl, 2);
    let reply;
    if (t.span) {
      const m = re(t.patterns[0]).exec(t.text);
      reply = m ? [m.index, m.index + m[0].length] : null;
    } else {
      reply = [];
      for (const p of t.patterns) if (re(p).test(t.text)) reply.push(p);
    }
    port.postMessage(reply);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
  }
});
Atomics.store(ctrl, 1, 1);
Atomics.notify(ctrl, 1);
`;

/** True when `source` has no quantifier and no back-reference: linear time on any text. */
export function isLinearByConstruction(source: string): boolean {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const n = source[i + 1];
      if (!inClass && n !== undefined && (/[1-9]/.test(n) || (n === 'k' && source[i + 2] === '<'))) return false;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '*' || c === '+') return false;
    else if (c === '?' && source[i - 1] !== '(') return false;
    else if (c === '{' && /^\{\d*(,\d*)?\}/.test(source.slice(i, i + 24))) return false;
  }
  return true;
}

/** Blocks while `ctrl[slot] <= k` (a counter that only grows), until `deadline` at the latest. */
function waitWhile(ctrl: Int32Array, slot: number, k: number, deadline: number): void {
  for (let v = Atomics.load(ctrl, slot); v <= k; v = Atomics.load(ctrl, slot)) {
    const left = deadline - performance.now();
    if (left <= 0) return;
    Atomics.wait(ctrl, slot, v, left);
  }
}

interface WorkerTask {
  text: string;
  patterns: readonly number[];
  span?: true;
}

interface RunningWorker {
  worker: Worker;
  ctrl: Int32Array;
  port: MessagePort;
}

export interface ExactTask {
  text: string;
  patterns: readonly number[];
}

export interface ExactOutcome {
  /** The task's patterns that match, ascending or in task order. */
  matched: number[];
  /** Patterns left undecided because the message ran out of budget; null when all were decided. */
  undecided: number[] | null;
}

/** Thrown by `span` when the budget runs out; the per-message guard dead-letters the message. */
export class ExactBudgetError extends LogsiftError {
  constructor(
    readonly recordIds: readonly string[],
    budgetMs: number,
  ) {
    super(ErrorCodes.CONFIRM_TIMEOUT, `exact engine ran out of its ${budgetMs} ms budget on record(s) ${recordIds.join(', ')}`);
    this.name = 'ExactBudgetError';
  }
}

export class ExactEngine {
  private readonly inline: (RegExp | null | undefined)[];
  private readonly linear: Uint8Array;
  private readonly sources: ([string, string] | null)[];
  private current: RunningWorker | null = null;
  /**
   * A booted stand-by: a timeout swaps it in, so the next message does not wait for a boot. Started
   * with the worker by `prewarm`; otherwise by the first timeout (a run without one never boots it).
   */
  private spare: RunningWorker | null = null;
  /** Workers terminated on a timeout since creation (observability and tests). */
  restarts = 0;

  constructor(
    private readonly plan: readonly PlannedPattern[],
    readonly budgetMs: number = DEFAULT_EXACT_BUDGET_MS,
  ) {
    if (!(budgetMs > 0)) throw new RangeError(`exact-engine budget must be positive (got ${budgetMs})`);
    this.inline = new Array<RegExp | null | undefined>(plan.length);
    this.linear = Uint8Array.from(plan, (p) => (p.js !== null && isLinearByConstruction(p.js) ? 1 : 0));
    this.sources = plan.map((p) => (p.js !== null && p.cls !== 'rejected' ? [p.js, p.jsFlags] : null));
  }

  /**
   * Starts the worker and its stand-by now, if any record will need them, so that they boot while the
   * caller goes on: booting costs tens of milliseconds, which would otherwise land on the first
   * message that needs the worker.
   */
  prewarm(): void {
    if (this.current) return;
    for (let i = 0; i < this.sources.length; i++) {
      if (this.sources[i] !== null && this.linear[i] === 0) {
        this.current = this.spawn();
        this.spare ??= this.spawn();
        return;
      }
    }
  }

  /** Worker threads running or booting: the worker and the stand-by (observability and tests). */
  get workers(): number {
    return (this.current ? 1 : 0) + (this.spare ? 1 : 0);
  }

  /** Whether record `index` runs inline (linear by construction) rather than in the worker. */
  runsInline(index: number): boolean {
    return this.linear[index] === 1;
  }

  hasExactForm(index: number): boolean {
    return this.sources[index] !== null;
  }

  private regex(index: number): RegExp {
    let re = this.inline[index];
    if (!re) {
      const [src, flags] = this.sources[index]!;
      re = new RegExp(src, flags);
      this.inline[index] = re;
    }
    re.lastIndex = 0;
    return re;
  }

  /** Decides each task's patterns; each task (message) gets `budgetMs` of worker time. */
  test(tasks: readonly ExactTask[]): ExactOutcome[] {
    const outcomes: ExactOutcome[] = [];
    const remote: WorkerTask[] = [];
    const remoteOf: number[] = [];
    for (const t of tasks) {
      const matched: number[] = [];
      const slow: number[] = [];
      for (const p of t.patterns) {
        if (this.linear[p] === 1) {
          if (this.regex(p).test(t.text)) matched.push(p);
        } else slow.push(p);
      }
      outcomes.push({ matched, undecided: null });
      if (slow.length > 0) {
        remote.push({ text: t.text, patterns: slow });
        remoteOf.push(outcomes.length - 1);
      }
    }
    if (remote.length === 0) return outcomes;
    const replies = this.call(remote, () => performance.now() + this.budgetMs);
    // Not forEach: a timed-out task's reply is a hole in the array, which forEach skips.
    for (let k = 0; k < remote.length; k++) {
      const o = outcomes[remoteOf[k]!]!;
      const reply = replies[k];
      if (reply === undefined) o.undecided = [...remote[k]!.patterns];
      else o.matched.push(...(reply as number[]));
    }
    return outcomes;
  }

  /** The match span of record `index` in `text`, or null; throws ExactBudgetError past `deadline`. */
  /**
   * `span` of several records on one text, the worker's ones in one round trip (the ranking's
   * tie-break asks for all the tied matches of a message at once).
   */
  spans(indexes: readonly number[], text: string, deadline: number = performance.now() + this.budgetMs): ([number, number] | null)[] {
    const out = new Array<[number, number] | null>(indexes.length).fill(null);
    const tasks: WorkerTask[] = [];
    const at: number[] = [];
    indexes.forEach((index, k) => {
      if (this.sources[index] === null) return;
      if (this.linear[index] === 1) {
        const m = this.regex(index).exec(text);
        out[k] = m ? [m.index, m.index + m[0].length] : null;
        return;
      }
      tasks.push({ text, patterns: [index], span: true });
      at.push(k);
    });
    if (tasks.length === 0) return out;
    const replies = this.call(tasks, (_k, startWaitMs) => deadline + startWaitMs);
    const late: string[] = [];
    // A plain loop: `call` leaves a timed-out task's reply a hole, which forEach would skip.
    for (let j = 0; j < tasks.length; j++) {
      const reply = replies[j];
      if (reply === undefined) late.push(this.plan[indexes[at[j]!]!]!.id);
      else out[at[j]!] = reply as [number, number] | null;
    }
    if (late.length > 0) throw new ExactBudgetError(late, this.budgetMs);
    return out;
  }

  span(index: number, text: string, deadline: number = performance.now() + this.budgetMs): [number, number] | null {
    if (this.sources[index] === null) return null;
    if (this.linear[index] === 1) {
      const m = this.regex(index).exec(text);
      return m ? [m.index, m.index + m[0].length] : null;
    }
    const [reply] = this.call([{ text, patterns: [index], span: true }], (_k, startWaitMs) => deadline + startWaitMs);
    if (reply === undefined) throw new ExactBudgetError([this.plan[index]!.id], this.budgetMs);
    return reply as [number, number] | null;
  }

  /**
   * Sends the tasks to the worker and collects one reply per task; `undefined` for a task whose
   * deadline (from when the worker started it: waiting for the thread to be scheduled is not
   * counted, up to START_GRACE_MS) passed (the worker is then replaced and the remaining tasks go to the new one).
   */
  private call(tasks: readonly WorkerTask[], deadlineOf: (k: number, startWaitMs: number) => number): unknown[] {
    const replies = new Array<unknown>(tasks.length);
    let start = 0;
    while (start < tasks.length) {
      const booting = performance.now();
      const w = this.ready();
      const bootMs = performance.now() - booting;
      const batch = start === 0 ? tasks : tasks.slice(start);
      Atomics.store(w.ctrl, DONE, 0);
      Atomics.store(w.ctrl, STARTED, 0);
      w.port.postMessage(batch);
      let k = 0;
      for (; k < batch.length; k++) {
        const t0 = performance.now();
        waitWhile(w.ctrl, STARTED, k, t0 + START_GRACE_MS + COMPILE_GRACE_MS * batch[k]!.patterns.length);
        waitWhile(w.ctrl, DONE, k, deadlineOf(start + k, bootMs + performance.now() - t0));
        if (Atomics.load(w.ctrl, DONE) <= k) {
          this.replace();
          break;
        }
        replies[start + k] = receiveMessageOnPort(w.port)?.message;
      }
      start += k + 1;
    }
    return replies;
  }

  private spawn(): RunningWorker {
    const ctrl = new Int32Array(new SharedArrayBuffer(12));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: EXACT_THREAD_NAME, workerData: { ctrl: ctrl.buffer, port: port2, sources: this.sources }, transferList: [port2] });
    // A crashed worker shows as a timeout on the message it was running; never as an error here.
    worker.on('error', () => undefined);
    worker.unref();
    port1.unref();
    return { worker, ctrl, port: port1 };
  }

  private ready(): RunningWorker {
    this.current ??= this.spawn();
    const w = this.current;
    // Blocks only at first use, after a timeout with no stand-by, or after two timeouts in quick
    // succession (the stand-by still booting).
    if (Atomics.load(w.ctrl, READY) === 0 && Atomics.wait(w.ctrl, READY, 0, BOOT_TIMEOUT_MS) === 'timed-out') {
      this.close();
      throw new LogsiftError(ErrorCodes.SCAN_FAILED, `exact-engine worker did not start within ${BOOT_TIMEOUT_MS} ms`, { retriable: true });
    }
    return w;
  }

  /** Terminates the worker (it may be spinning in a RegExp), swaps in the stand-by, boots a new stand-by. */
  private replace(): void {
    stop(this.current);
    this.restarts++;
    this.current = this.spare ?? this.spawn();
    this.spare = this.spawn();
  }

  /** Stops the workers; a later call starts new ones. */
  close(): void {
    stop(this.current);
    stop(this.spare);
    this.current = null;
    this.spare = null;
  }
}

function stop(w: RunningWorker | null): void {
  if (w) {
    w.port.close();
    void w.worker.terminate().catch(() => undefined);
  }
}
