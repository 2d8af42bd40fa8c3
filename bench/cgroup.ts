/**
 * A memory cgroup for one benchmark process, under this process's own (cgroup v1 or v2; root only),
 * so that the process runs as it would in a pod with that memory limit: Node reads the limit
 * (`process.constrainedMemory()`) and sizes V8's heaps from it, instead of from the host's memory.
 * A process that goes past the limit is OOM-killed, and `oomKills` says so.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** The file a process writes its pid to, to move into the cgroup. */
  procs: string;
  /** OOM kills in the cgroup so far. */
  oomKills(): number;
  /** Removes the cgroup (its processes must have exited). */
  remove(): void;
}

/** This process's cgroup directory for the memory controller, and its version; null when there is none to use. */
function ownMemoryCgroup(): { dir: string; version: 1 | 2 } | null {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.map((l) => l.split(':')).find((f) => f.length >= 3 && f[1]!.split(',').includes('memory'));
  if (v1 && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', v1[2]!), version: 1 };
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 && existsSync('/sys/fs/cgroup/cgroup.controllers') && readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('memory')) {
    return { dir: join('/sys/fs/cgroup', v2.slice(3)), version: 2 };
  }
  return null;
}

function counter(file: string, key: string): number {
  if (!existsSync(file)) return 0;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Creates `name` with a memory limit of `limitMiB` (no swap); throws with the reason when it cannot. */
export function memoryCgroup(name: string, limitMiB: number): MemoryCgroup {
  const own = ownMemoryCgroup();
  if (own === null) throw new Error('no memory cgroup controller to use (cgroup v1 memory, or v2 with memory enabled)');
  const dir = join(own.dir, name);
  if (!existsSync(dir)) mkdirSync(dir);
  const bytes = String(limitMiB * 1024 * 1024);
  if (own.version === 1) {
    writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes);
    // Swap would let the process go past the limit instead of being killed at it.
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), bytes);
  } else {
    writeFileSync(join(dir, 'memory.max'), bytes);
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
  }
  return {
    procs: join(dir, 'cgroup.procs'),
    oomKills: () => (own.version === 1 ? counter(join(dir, 'memory.oom_control'), 'oom_kill') : counter(join(dir, 'memory.events'), 'oom_kill')),
    remove: () => rmdirSync(dir),
  };
}
