/**
 * Starts librdkafka's mock cluster (tools/mock-broker) as a child process: a real Kafka-protocol
 * broker on 127.0.0.1. Fault commands go over its stdin; it exits when the test's process does.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function mockBrokerPath(): string {
  const env = process.env['LOGSIFT_MOCK_BROKER'];
  if (env) return env;
  const cache = process.env['LOGSIFT_DEPS_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'logsift-deps');
  const bin = join(cache, 'mock-broker');
  if (!existsSync(bin)) throw new Error(`mock broker not built: run bash tools/mock-broker/build.sh (looked for ${bin})`);
  return bin;
}

export class MockCluster {
  private readonly pending: ((line: string) => void)[] = [];
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly bootstrap: string,
    lines: AsyncIterableIterator<string>,
  ) {
    void (async () => {
      for await (const line of lines) this.pending.shift()?.(line);
    })();
  }

  static async start(options: { brokers?: number; topics?: Record<string, number> } = {}): Promise<MockCluster> {
    const args = ['--brokers', String(options.brokers ?? 1)];
    for (const [t, p] of Object.entries(options.topics ?? {})) args.push('--topic', `${t}:${p}`);
    const child = spawn(mockBrokerPath(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`mock broker exited (${code}): ${stderr}`)))),
    ]);
    const m = /^BOOTSTRAP (\S+)$/.exec(first.value ?? '');
    if (!m) throw new Error(`unexpected mock broker output: ${first.value} ${stderr}`);
    await lines.next(); // READY
    return new MockCluster(child, m[1]!, lines);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get brokers(): string[] {
    return this.bootstrap.split(',');
  }

  /** Sends one command; resolves on OK, rejects on ERR. */
  async command(line: string): Promise<void> {
    const reply = await new Promise<string>((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(`${line}\n`);
    });
    if (!reply.startsWith('OK')) throw new Error(`mock broker: ${line}: ${reply}`);
  }

  createTopic(name: string, partitions: number): Promise<void> {
    return this.command(`topic ${name} ${partitions}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
