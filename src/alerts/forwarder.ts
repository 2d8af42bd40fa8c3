/**
 * Forwards enriched webhook payloads to `alerts.forwardUrl` (another Alertmanager receiver, a chat
 * bridge, …) off the request path: a bounded queue, one delivery at a time, a timeout per attempt and
 * retries with backoff. A slow or failing target fills the queue, after which new payloads are
 * dropped and counted; nothing ever waits for it — not the webhook caller, not the Kafka path.
 */

export interface ForwarderOptions {
  url: string;
  /** Per attempt, ms. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** Payloads waiting at most; more are dropped. */
  queueSize: number;
  /** First retry delay, ms; doubles per retry. */
  backoffMs?: number;
}

export type ForwardResult = 'delivered' | 'failed' | 'dropped';

export interface ForwarderHooks {
  /** Called once per payload with how it ended; `error` for failed ones. */
  result(result: ForwardResult, error?: string): void;
}

export class AlertForwarder {
  private readonly queue: string[] = [];
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly options: ForwarderOptions,
    private readonly hooks: ForwarderHooks,
  ) {}

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Queues a payload; returns false (and counts it dropped) when the queue is full or closed. */
  enqueue(payload: unknown): boolean {
    if (this.closed || this.queue.length >= this.options.queueSize) {
      this.hooks.result('dropped');
      return false;
    }
    this.queue.push(JSON.stringify(payload));
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
    return true;
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops taking payloads; waits for the queued ones up to `graceMs`, then drops the rest. */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    const timeout = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([this.idle(), timeout]);
    while (this.queue.length > 0) {
      this.queue.shift();
      this.hooks.result('dropped');
    }
  }

  private async drain(): Promise<void> {
    for (let body = this.queue.shift(); body !== undefined; body = this.queue.shift()) {
      let error = '';
      let ok = false;
      for (let attempt = 0; attempt <= this.options.retries && !ok; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, (this.options.backoffMs ?? 200) * 2 ** (attempt - 1)).unref());
        try {
          const res = await fetch(this.options.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(this.options.timeoutMs),
          });
          await res.arrayBuffer();
          ok = res.ok;
          if (!ok) error = `HTTP ${res.status}`;
        } catch (err) {
          error = (err as Error).name === 'TimeoutError' ? `timed out after ${this.options.timeoutMs} ms` : (err as Error).message;
        }
      }
      this.hooks.result(ok ? 'delivered' : 'failed', ok ? undefined : error);
    }
  }
}
