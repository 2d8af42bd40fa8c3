/** Shared benchmark helpers: corpora from ../shared and a CPU-time based rate. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Kafka } from 'kafkajs';

import { ThreadNames } from '../src/app/worker-pool.js';
import { DEV_LINES, LOGHUB_DIR } from '../test/helpers/shared.js';

export function loghubLines(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(LOGHUB_DIR).filter((x) => x.endsWith('.log')).sort()) {
    for (const l of readFileSync(join(LOGHUB_DIR, f), 'utf8').split('\n')) if (l !== '') out.push(l);
  }
  return out;
}

export function devLines(): string[] {
  return readFileSync(DEV_LINES, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { line: string }).line);
}

export interface Rate {
  items: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Items per second of CPU time of this process: "per core" for single-threaded work. */
  perCore: number;
}

/** Runs `fn` (which processes `items` items) repeatedly for at least `minSeconds`. */
export function measure(items: number, fn: () => void, minSeconds = 2): Rate {
  fn(); // warm-up: JIT and caches
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let wall = 0;
  do {
    fn();
    n += items;
    wall = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (wall < minSeconds);
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { items: n, wallSeconds: wall, cpuSeconds, perCore: n / cpuSeconds };
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * The median: of an even count, the mean of the two middle values (with 2 rounds, their mean: the
 * upper one, as this returned before, flattered every 2-round table). Does not reorder `xs`.
 */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const TICKS = 100; // USER_HZ

/** User + system CPU seconds from a /proc stat file (a process's or one of its threads'). */
function statCpuSeconds(file: string): number {
  const stat = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) / TICKS;
}

/** A process's CPU (user + system) and memory so far, from /proc. */
export function procStats(pid: number): { cpuSeconds: number; rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { cpuSeconds: statCpuSeconds(`/proc/${pid}/stat`), rssMiB: kib('VmRSS'), peakMiB: kib('VmHWM') };
}

/**
 * CPU seconds (user + system) of a process's live threads so far, summed by thread group: Node's event
 * loop (`node-MainThread`), logsift's named workers (`logsift-enrich`, `logsift-exact`, `logsift-scan`:
 * ThreadNames in src/app/worker-pool.ts), V8's helper threads (`node-V8Worker`: concurrent marking,
 * compilation), libuv's pool (`libuv-worker`), and any other name as itself. A thread that exited
 * between two readings is missing from the later one.
 */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(comm, (out.get(comm) ?? 0) + statCpuSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // The thread exited while being read.
    }
  }
  return out;
}

/**
 * The machine's CPU time so far, all cores, from /proc/stat, in seconds: `busy` (user, nice, system,
 * irq, softirq), `steal` (taken by the hypervisor for other guests: a noisy neighbour) and `total`.
 */
export function machineCpu(): { busy: number; steal: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / TICKS, steal: steal / TICKS, total: (busy + idle + iowait + steal) / TICKS };
}

/** Friendlier names for threadCpu's groups. */
export const THREAD_GROUPS: Record<string, string> = {
  'node-MainThread': 'event loop',
  [ThreadNames.enrich]: 'enrichment workers',
  [ThreadNames.exact]: 'exact engine',
  'node-V8Worker': 'V8 helpers',
  'libuv-worker': 'libuv pool',
};

/** Messages of `topic` the consumer group has committed, over all its partitions. */
export async function committed(kafka: Kafka, group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const r = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return r[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
