/**
 * The integration suite's Kafka: librdkafka's mock cluster (tools/mock-broker) as a child process, a
 * real Kafka-protocol broker on 127.0.0.1 whose fault commands go over its stdin; or, when
 * LOGSIFT_TEST_BROKERS is set (host:port,...), an external Kafka such as the Apache Kafka container
 * of .github/workflows/kafka.yml. Tests create (and delete) their own topics either way.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { Kafka, logLevel, type Admin } from 'kafkajs';

export function mockBrokerPath(): string {
  const env = process.env['LOGSIFT_MOCK_BROKER'];
  if (env) return env;
  const cache = process.env['LOGSIFT_DEPS_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'logsift-deps');
  const bin = join(cache, 'mock-broker');
  if (!existsSync(bin)) throw new Error(`mock broker not built: run bash tools/mock-broker/build.sh (looked for ${bin})`);
  return bin;
}

/** What a test needs from a cluster, mock or external. */
export interface TestCluster {
  readonly bootstrap: string;
  readonly brokers: string[];
  /** True when fault commands (down, up, rtt, errors) are available: the mock only. */
  readonly injectsFaults: boolean;
  /** Sends one fault command; resolves on OK, rejects on ERR. */
  command(line: string): Promise<void>;
  createTopic(name: string, partitions: number): Promise<void>;
  stop(): Promise<void>;
}

/** The external bootstrap servers from LOGSIFT_TEST_BROKERS, or null to use the mock. */
export function externalBrokers(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const raw = env['LOGSIFT_TEST_BROKERS']?.trim();
  if (!raw) return null;
  const brokers = raw.split(',').map((b) => b.trim()).filter((b) => b !== '');
  const bad = brokers.find((b) => !/^[^\s:]+:\d+$/.test(b));
  if (bad !== undefined || brokers.length === 0) throw new Error(`LOGSIFT_TEST_BROKERS must be host:port[,host:port...] (got "${raw}")`);
  return brokers;
}

/** Why a test skips on an external cluster. */
export const NEEDS_MOCK_FAULTS = 'needs the mock broker\'s fault injection (down, rtt, errors); LOGSIFT_TEST_BROKERS points at an external Kafka';

/** The external cluster when LOGSIFT_TEST_BROKERS is set, else a new mock cluster. */
export async function startCluster(options: { brokers?: number; topics?: Record<string, number> } = {}): Promise<TestCluster> {
  const external = externalBrokers();
  if (!external) return MockCluster.start(options);
  const cluster = await ExternalCluster.connect(external);
  for (const [t, p] of Object.entries(options.topics ?? {})) await cluster.createTopic(t, p);
  return cluster;
}

/** A Kafka this suite does not own: topics are created through the admin API and deleted at stop. */
export class ExternalCluster implements TestCluster {
  readonly injectsFaults = false;
  private readonly created: string[] = [];
  private constructor(
    readonly brokers: string[],
    private readonly admin: Admin,
  ) {}

  static async connect(brokers: string[]): Promise<ExternalCluster> {
    const admin = new Kafka({ clientId: 'logsift-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    return new ExternalCluster(brokers, admin);
  }

  get bootstrap(): string {
    return this.brokers.join(',');
  }

  command(line: string): Promise<void> {
    return Promise.reject(new Error(`fault command "${line}": ${NEEDS_MOCK_FAULTS}`));
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    // One replica: the topics live for one test. (The broker's default, -1, needs CreateTopics v4; kafkajs speaks v3.)
    const created = await this.admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    if (!created) throw new Error(`topic ${name} already exists on the external cluster`);
    this.created.push(name);
  }

  async stop(): Promise<void> {
    try {
      if (this.created.length > 0) await this.admin.deleteTopics({ topics: this.created.splice(0) });
    } finally {
      await this.admin.disconnect();
    }
  }
}

export class MockCluster implements TestCluster {
  readonly injectsFaults = true;
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
