/** Runs `logsift run` as a real child process and watches its structured logs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { REPO_ROOT, TEST_CACHE_DIR } from './shared.js';
import { waitFor } from './wait.js';

export interface DaemonOptions {
  brokers: string[];
  input: string;
  output: string;
  group: string;
  kb?: string[];
  dlq?: string;
  unmatched?: string;
  env?: Record<string, string>;
  args?: string[];
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** One sample of a daemon's /metrics exposition (`labels` as exposed, e.g. `outcome="matched"`), or undefined. */
export function metric(body: string, name: string, labels = ''): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** Input messages the daemon has counted (logsift_messages_total) with these outcomes, from its /metrics. */
export function messagesCounted(body: string, outcomes: readonly string[]): number {
  return outcomes.reduce((sum, o) => sum + (metric(body, 'logsift_messages_total', `outcome="${o}"`) ?? 0), 0);
}

/** Every daemon a test file started, for `unexpectedErrors()`. */
const started: DaemonProcess[] = [];

/** LOGSIFT_UNEXPECTED log lines (unhandled rejections, HTTP handler bugs) of every daemon started so far: tests fail on them. */
export function unexpectedErrors(): LogLine[] {
  return started.flatMap((d) => d.logs.filter((l) => l['code'] === 'LOGSIFT_UNEXPECTED'));
}

export class DaemonProcess {
  readonly logs: LogLine[] = [];
  port = 0;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    const rl = createInterface({ input: child.stderr! });
    rl.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as LogLine;
        this.logs.push(parsed);
        if (typeof parsed['port'] === 'number' && parsed.msg.startsWith('serving')) this.port = parsed['port'];
      } catch {
        this.logs.push({ level: 50, msg: line });
      }
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      }),
    );
  }

  /** Starts the process and waits until it serves HTTP (or exits: then it throws, unless `mayExit`). */
  static async start(o: DaemonOptions, mayExit = false): Promise<DaemonProcess> {
    const d = DaemonProcess.spawn(o);
    await waitFor(() => d.port > 0 || d.exitCode !== undefined, 'the daemon to serve HTTP', 120_000);
    if (d.exitCode !== undefined && !mayExit) throw new Error(`logsift run exited early (${d.exitCode}): ${d.logs.map((l) => l.msg).join(' | ')}`);
    return d;
  }

  /** Starts the process without waiting for anything. */
  static spawn(o: DaemonOptions): DaemonProcess {
    const args = [join(REPO_ROOT, 'bin', 'logsift.js'), 'run', '--brokers', o.brokers.join(','), '--input', o.input, '--output', o.output, '--group', o.group, '--http-port', '0'];
    for (const k of o.kb ?? []) args.push('--kb', k);
    if (o.dlq) args.push('--dlq', o.dlq);
    if (o.unmatched) args.push('--unmatched', o.unmatched);
    args.push(...(o.args ?? []));
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOGSIFT_KB_CACHE_DIR: TEST_CACHE_DIR, LOGSIFT_HTTP_HOST: '127.0.0.1', LOGSIFT_INPUT_SESSION_TIMEOUT: '8s', LOGSIFT_INPUT_HEARTBEAT_INTERVAL: '1s', ...o.env },
    });
    const d = new DaemonProcess(child);
    started.push(d);
    return d;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string | null }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { headers });
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => (await this.get('/readyz')).status === 200, 'the daemon to be ready', timeoutMs);
  }

  hasLog(pattern: RegExp): boolean {
    return this.logs.some((l) => pattern.test(l.msg));
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** The exit code once exited (-1 for a signal death), else undefined. */
  get exitStatus(): number | null | undefined {
    return this.exitCode;
  }

  /** Resolves with the exit code (-1 for a signal death). */
  wait(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
