/** Shared benchmark helpers: corpora from ../shared and a CPU-time based rate. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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

/** The median (the upper one of an even count); does not reorder `xs`. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}
