/**
 * npm run bench:pipeline — realistic messages (loghub lines with error lines mixed in) through
 * librdkafka's mock cluster (patched to keep transactions, tools/mock-broker): input → `logsift run`
 * (2,522-record KB) → output, and in the same run a kafkajs pass-through (no matching) as the baseline,
 * for each delivery mode: at-least-once (consume → produce → commit) and exactly-once (one transaction
 * per chunk: send + sendOffsets + commit). Each runs in its own process; CPU and RSS are read from
 * /proc. BENCH_MESSAGES sets the count (default 1,000,000); BENCH_ERROR_EVERY the share of error
 * lines (default 4: every 4th message is an error line; 0: loghub's lines alone, a stream of ordinary
 * logs). At-least-once is also run with smaller
 * events (`output.includeLog: false`), with zstd-compressed output, with enrichment on the event
 * loop (`match.workers: 0`) and with a 1-record KB (the delivery path without the matching work),
 * each beside the same baseline; BENCH_VARIANTS=0 skips them (=extra: runs only BENCH_EXTRA's), BENCH_MODES
 * (comma-separated) picks the delivery modes. BENCH_MEMORY=1 prints each logsift run's peak memory
 * gauges (its /metrics: RSS, V8 heap by space, external memory; the main thread's heap only).
 * BENCH_MEMORY_LIMITS=768,512 (MiB) runs the defaults again, each inside a memory cgroup of that
 * limit (root; bench/cgroup.ts), as in a pod with that limit: Node sizes V8's heaps from the limit, not
 * from the host's memory, and a run past it is OOM-killed (reported, not an error). A BENCH_EXTRA
 * variant may carry its own `memoryLimitMiB`, a `root`: another built checkout to run (a change
 * against the commit before it, in the same rounds), and `nodeArgs`: Node flags of its own. A process
 * that exits before it has read every message ends the run with an error (an OOM kill in a cgroup is
 * reported as a result).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kafka, logLevel } from 'kafkajs';

import { MockCluster } from '../test/helpers/broker.js';
import { DEADENDS_RECORDS, REPO_ROOT, TEST_CACHE_DIR, readDevLines } from '../test/helpers/shared.js';
import { memoryCgroup } from './cgroup.js';
import { THREAD_GROUPS, committed, fmt, loghubLines, machineCpu, median, procStats, threadCpu } from './common.js';

const N = Number(process.env['BENCH_MESSAGES'] ?? 1_000_000);
/** Brokers in the mock cluster (BENCH_BROKERS, default 1): kafkajs runs one fetch loop per broker. */
const BROKERS = Number(process.env['BENCH_BROKERS'] ?? 1);
const PARTITIONS = 64; // the mock keeps ~5 MB per partition: spread the stream
/**
 * Every how many messages an error line (the dev set's lines written from records) is mixed in among
 * loghub's lines (BENCH_ERROR_EVERY, default 4); 0: none, the loghub lines alone. A matched message
 * costs the enrichment several times an ordinary one (ranking, the event), so this sets the work per
 * message; the pass-through's does not depend on it. The error lines come in turn, each once before
 * any comes again, whatever the share.
 */
const ERROR_EVERY = Number(process.env['BENCH_ERROR_EVERY'] ?? 4);
if (!Number.isInteger(ERROR_EVERY) || ERROR_EVERY < 0) throw new Error(`BENCH_ERROR_EVERY must be a whole number ≥ 0, not ${process.env['BENCH_ERROR_EVERY']}`);
/** Node flags for the logsift processes, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

interface Variant {
  name: string;
  out: string;
  env: Record<string, string>;
  /** Run inside a memory cgroup of this limit (BENCH_MEMORY_LIMITS). */
  memoryLimitMiB?: number;
  /** The delivery mode it runs in, beside that mode's baseline. Default at-least-once. */
  mode?: string;
  /**
   * Another built checkout of logsift to run instead of this one (its `bin/logsift.js`), e.g. a git
   * worktree of the commit before a change: the change's effect, measured in the same rounds.
   */
  root?: string;
  /** Node flags of this variant's process, after BENCH_NODE_ARGS (e.g. `--single-threaded-gc`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

interface Measured {
  seconds: number;
  /** Messages/s from the first commit to the last. */
  steadyRate: number;
  /** Seconds from the start of the measurement to the first commit. */
  startSeconds: number;
  cpuPerMsgUs: number;
  peakMiB: number;
  /** The mock broker's CPU per message over the same interval: with 2 cores, broker + process is the budget. */
  brokerCpuPerMsgUs: number;
  /** CPU seconds per thread group over the measured interval (threadCpu). */
  threads: Map<string, number>;
  /** While the stream flows (first commit to last): each thread group's share of a core. */
  flowThreads: Map<string, number>;
  /** While the stream flows: the whole machine's busy and stolen CPU, in cores (every process, the broker's and this one's too). */
  flowMachine: { busy: number; steal: number };
}

async function measure(name: string, child: ChildProcess, kafka: Kafka, group: string, input: string, startWhen: () => boolean, brokerPid: number, trace?: () => Promise<void>, sample?: () => Promise<void>): Promise<Measured> {
  while (!startWhen()) {
    if (child.exitCode !== null) throw new Error(`${name} exited early`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const t0 = Date.now();
  const s0 = procStats(child.pid!);
  const th0 = threadCpu(child.pid!);
  const b0 = procStats(brokerPid);
  let done = 0;
  let maxRss = s0.rssMiB;
  let first: { t: number; done: number; threads: Map<string, number>; machine: ReturnType<typeof machineCpu> } | null = null;
  let lastThreads = th0;
  let lastT = t0;
  while (done < N) {
    await new Promise((r) => setTimeout(r, 100));
    done = await committed(kafka, group, input);
    // A process that died (a crash, an OOM kill) would leave this loop waiting for ever.
    if (done < N && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) after ${done} of ${N} messages`);
    if (process.env['BENCH_TRACE']) {
      // Each thread group's share of a core since the last line: a timeline of which stage waits.
      const now = threadCpu(child.pid!);
      const dt = (Date.now() - lastT) / 1000;
      const busy = [...now].map(([k, v]) => [THREAD_GROUPS[k] ?? k, (v - (lastThreads.get(k) ?? 0)) / dt] as const).filter(([, x]) => x >= 0.05).map(([k, x]) => `${k} ${(100 * x).toFixed(0)}%`);
      lastThreads = now;
      lastT = Date.now();
      console.log(`${name} ${((Date.now() - t0) / 1000).toFixed(2)} s ${done} ${busy.join(' ')}`);
    }
    if (first === null && done > 0) first = { t: Date.now(), done, threads: threadCpu(child.pid!), machine: machineCpu() };
    maxRss = Math.max(maxRss, procStats(child.pid!).rssMiB);
    if (sample) await sample();
  }
  const seconds = (Date.now() - t0) / 1000;
  // From the first commit seen to the last: the stream once it flows, without connecting and joining.
  const steady = first && first.done < N && Date.now() > first.t ? (N - first.done) / ((Date.now() - first.t) / 1000) : N / seconds;
  const s1 = procStats(child.pid!);
  const th1 = threadCpu(child.pid!);
  const m1 = machineCpu();
  const b1 = procStats(brokerPid);
  const flowSeconds = first ? (Date.now() - first.t) / 1000 : 0;
  const flowThreads = new Map(first && flowSeconds > 0 ? [...th1].map(([k, v]) => [k, (v - (first.threads.get(k) ?? 0)) / flowSeconds] as const) : []);
  // /proc/stat counts every core: its share of the elapsed machine time, times the cores, is in cores.
  const cores = availableParallelism();
  const dm = first ? { busy: m1.busy - first.machine.busy, steal: m1.steal - first.machine.steal, total: m1.total - first.machine.total } : null;
  const flowMachine = dm && dm.total > 0 ? { busy: (dm.busy / dm.total) * cores, steal: (dm.steal / dm.total) * cores } : { busy: 0, steal: 0 };
  if (process.env['BENCH_TRACE'] && trace) await trace();
  child.kill('SIGTERM');
  return { seconds, steadyRate: steady, startSeconds: first ? (first.t - t0) / 1000 : seconds, cpuPerMsgUs: ((s1.cpuSeconds - s0.cpuSeconds) / N) * 1e6, peakMiB: maxRss, brokerCpuPerMsgUs: ((b1.cpuSeconds - b0.cpuSeconds) / N) * 1e6, threads: new Map([...th1].map(([k, v]) => [k, v - (th0.get(k) ?? 0)])), flowThreads, flowMachine };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'logsift-pipeline-'));
  const cluster = await MockCluster.start({ brokers: BROKERS, topics: { in: PARTITIONS, out: PARTITIONS, 'out.dlq': 1, passthrough: PARTITIONS, 'out-eos': PARTITIONS, 'out-eos.dlq': 1, 'passthrough-eos': PARTITIONS, 'out-nolog': PARTITIONS, 'out-nolog.dlq': 1, 'out-zstd': PARTITIONS, 'out-zstd.dlq': 1, 'out-inline': PARTITIONS, 'out-inline.dlq': 1, 'out-onerecord': PARTITIONS, 'out-onerecord.dlq': 1, ...Object.fromEntries([0, 1, 2, 3].flatMap((i) => [[`out-extra${i}`, PARTITIONS], [`out-extra${i}.dlq`, 1], [`out-cgroup${i}`, PARTITIONS], [`out-cgroup${i}.dlq`, 1]])) } });
  try {
    const background = loghubLines();
    const errors = readDevLines().filter((l) => l.source.length > 0).map((l) => l.line);
    const lines = Array.from({ length: N }, (_, i) => (ERROR_EVERY > 0 && i % ERROR_EVERY === 0 ? errors[(i / ERROR_EVERY) % errors.length]! : background[i % background.length]!));
    writeFileSync(join(dir, 'input.txt'), `${lines.join('\n')}\n`);
    const t = Date.now();
    // Random partition per message (no sticky batches): the mock cluster keeps about 5 MB per
    // partition and drops older segments, so a skewed spread would lose input before it is read.
    execFileSync('kcat', ['-P', '-b', cluster.bootstrap, '-t', 'in', '-p', '-1', '-l', join(dir, 'input.txt'), '-X', 'linger.ms=50', '-X', 'batch.num.messages=10000', '-X', 'sticky.partitioning.linger.ms=0']);
    console.log(`produced ${fmt(N)} messages (${(readFileSync(join(dir, 'input.txt')).length / 1048576).toFixed(0)} MiB, ${ERROR_EVERY > 0 ? `1 in ${ERROR_EVERY} an error line` : 'loghub lines only, no error lines'}) over ${PARTITIONS} partitions in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const kafka = new Kafka({ clientId: 'bench', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    {
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets('in');
      await admin.disconnect();
      const kept = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      if (kept !== N) throw new Error(`the broker holds ${kept} of the ${N} input messages (per-partition retention): every run would read a part`);
    }

    const modes: { mode: string; what: string; out: string; passthrough: string }[] = [
      { mode: 'at-least-once', what: 'idempotent producer, acks=all, commit after ack', out: 'out', passthrough: 'passthrough' },
      { mode: 'exactly-once', what: 'one transaction per chunk: send + sendOffsets + commit, read_committed', out: 'out-eos', passthrough: 'passthrough-eos' },
    ].filter((m) => (process.env['BENCH_MODES'] ?? 'at-least-once,exactly-once').split(',').includes(m.mode));
    const extra: Variant[] = process.env['BENCH_EXTRA'] ? (JSON.parse(process.env['BENCH_EXTRA']) as Omit<Variant, 'out'>[]).map((v, i) => ({ ...v, out: `out-extra${i}` })) : [];
    // BENCH_MEMORY_LIMITS (MiB, comma-separated, up to 4): the defaults again inside a memory cgroup of
    // that limit, as in a pod: Node sizes V8's heaps from the limit instead of from the host's memory.
    for (const [i, mib] of (process.env['BENCH_MEMORY_LIMITS'] ?? '').split(',').filter((x) => x !== '').slice(0, 4).entries()) {
      extra.push({ name: `in a ${mib} MiB memory cgroup`, out: `out-cgroup${i}`, env: {}, memoryLimitMiB: Number(mib) });
    }
    // BENCH_VARIANTS=0: none; =extra: only BENCH_EXTRA's.
    const variants: Variant[] =
      process.env['BENCH_VARIANTS'] === '0'
        ? []
        : process.env['BENCH_VARIANTS'] === 'extra'
          ? extra
          : [
            ...extra,
            { name: 'match.workers: 0 (enrichment on the event loop)', out: 'out-inline', env: { LOGSIFT_MATCH_WORKERS: '0' } },
            { name: 'output.includeLog: false', out: 'out-nolog', env: { LOGSIFT_OUTPUT_INCLUDE_LOG: 'false' } },
            { name: 'output.compression: zstd', out: 'out-zstd', env: { LOGSIFT_OUTPUT_COMPRESSION: 'zstd' } },
            // The delivery path with next to no matching work: what the daemon costs around the KB.
            { name: 'a 1-record KB (kb.include)', out: 'out-onerecord', env: { LOGSIFT_KB_INCLUDE: 'id:docker/exec-format-error/docker27-linux' } },
          ];
    /** The variants of a delivery mode (a variant without one runs at-least-once). */
    const variantsIn = (mode: string): Variant[] => variants.filter((v) => (v.mode ?? 'at-least-once') === mode);
    const runLogsift = async (mode: string, out: string, group: string, env: Record<string, string> = {}, memoryLimitMiB?: number, root = REPO_ROOT, nodeArgs: string[] = []): Promise<Measured | null> => {
      let ready = false;
      let port = 0;
      const argv = [...NODE_ARGS, ...nodeArgs, join(root, 'bin', 'logsift.js'), 'run', '--brokers', cluster.bootstrap, '--input', 'in', '--output', out, '--group', group, '--kb', DEADENDS_RECORDS, '--http-port', '0', '--delivery', mode];
      const cgroup = memoryLimitMiB === undefined ? null : memoryCgroup(`logsift-bench-${process.pid}-${group}`, memoryLimitMiB);
      // In a cgroup: a shell moves itself there, then becomes the daemon (the pid measured is the daemon's).
      const [file, args] = cgroup ? ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procs, process.execPath, ...argv]] : [process.execPath, argv];
      const ls = spawn(file, args, {
        stdio: ['ignore', process.env['BENCH_LOGS'] ? 'pipe' : 'ignore', 'pipe'],
        env: { ...process.env, LOGSIFT_KB_CACHE_DIR: TEST_CACHE_DIR, LOGSIFT_LOG_LEVEL: 'info', ...env },
      });
      // BENCH_LOGS=DIR: each daemon's log (pino JSON lines) in DIR/<group>.log, to see why a run stalled.
      const logFile = process.env['BENCH_LOGS'] ? join(process.env['BENCH_LOGS'], `${group}.log`) : null;
      // And its stdout as DIR/<group>.out: what Node itself prints there, e.g. BENCH_NODE_ARGS=--trace-gc.
      if (logFile !== null) ls.stdout!.on('data', (c: Buffer) => appendFileSync(logFile.replace(/\.log$/, '.out'), c));
      ls.stderr!.on('data', (c: Buffer) => {
        if (logFile !== null) appendFileSync(logFile, c);
        const text = c.toString();
        if (text.includes('"msg":"serving')) {
          ready = true;
          port = Number(/"port":(\d+)/.exec(text)?.[1] ?? 0);
        }
      });
      // BENCH_MEMORY: the peak of each of the daemon's memory gauges (main thread), printed after the run.
      const peaks = new Map<string, number>();
      const sample = process.env['BENCH_MEMORY']
        ? async () => {
            const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            for (const m of text.matchAll(/^(process_resident_memory_bytes|nodejs_heap_size_total_bytes|nodejs_heap_size_used_bytes|nodejs_external_memory_bytes|nodejs_heap_space_size_total_bytes\{space="\w+"\})\s+(\d+)/gm)) {
              peaks.set(m[1]!, Math.max(peaks.get(m[1]!) ?? 0, Number(m[2]) / 1048576));
            }
          }
        : undefined;
      let result: Measured;
      try {
        result = await measure(`logsift run ${mode} ${group}`, ls, kafka, group, 'in', () => ready, cluster.pid, async () => {
          // BENCH_TRACE: where a chunk's time went, from the daemon's own histograms.
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          console.log(text.split('\n').filter((l) => /^logsift_(scan|batch|produce|commit)_duration_seconds_(sum|count|bucket)|^logsift_messages_total|^logsift_events_produced_total|^logsift_scanned_bytes_total/.test(l)).join('\n'));
        }, sample);
      } catch (err) {
        // Past its memory limit the daemon is OOM-killed: a result of the run, not a failure of the benchmark.
        if (cgroup === null || cgroup.oomKills() === 0) throw err;
        console.log(`${mode} in a ${memoryLimitMiB} MiB memory cgroup: OOM-killed`);
        return null;
      } finally {
        if (cgroup) {
          ls.kill('SIGKILL');
          if (ls.exitCode === null && ls.signalCode === null) await once(ls, 'exit');
          cgroup.remove();
        }
      }
      if (sample) console.log(`${mode} ${JSON.stringify(env)}${memoryLimitMiB === undefined ? '' : ` ${memoryLimitMiB} MiB cgroup`} peak MiB: ${[...peaks].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
      return result;
    };
    const rate = (s: { seconds: number }) => N / s.seconds;
    const summary: string[] = [];
    // BENCH_REPEAT rounds, each running the baseline and every logsift variant once, one after
    // another (this machine's throughput drifts by ±20% between runs: interleaving spreads the drift
    // over all of them). Medians are reported, with each round's ratio to its own baseline.
    const ROUNDS = Math.max(1, Number(process.env['BENCH_REPEAT'] ?? 1));
    type Runs = { rates: number[]; ratios: number[]; steady: number[]; start: number[]; cpu: number[]; peak: number[]; broker: number[]; oomKilled: number; threads: Map<string, { us: number[]; core: number[] }>; machine: number[]; steal: number[] };
    const runs = new Map<string, Runs>();
    /** `r` null: the run was OOM-killed (a memory-cgroup variant). */
    const record = (key: string, r: Measured | null, base: Measured): void => {
      const e: Runs = runs.get(key) ?? { rates: [], ratios: [], steady: [], start: [], cpu: [], peak: [], broker: [], oomKilled: 0, threads: new Map(), machine: [], steal: [] };
      runs.set(key, e);
      if (r === null) {
        e.oomKilled++;
        return;
      }
      e.rates.push(rate(r));
      e.ratios.push(rate(r) / rate(base));
      e.steady.push(r.steadyRate / base.steadyRate);
      e.start.push(r.startSeconds);
      e.cpu.push(r.cpuPerMsgUs);
      e.peak.push(r.peakMiB);
      e.broker.push(r.brokerCpuPerMsgUs);
      for (const [group, seconds] of r.threads) {
        const t = e.threads.get(group) ?? { us: [], core: [] };
        e.threads.set(group, t);
        t.us.push((seconds / N) * 1e6);
        t.core.push(r.flowThreads.get(group) ?? 0);
      }
      e.machine.push(r.flowMachine.busy);
      e.steal.push(r.flowMachine.steal);
      runs.set(key, e);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of modes) {
        const tag = ROUNDS > 1 ? `-r${round}` : '';
        // Baseline: kafkajs pass-through.
        const group = `bench-passthrough-${m.mode}${tag}`;
        // Node's own type stripping, not tsx: tsx's loader runs on a thread of its own, whose heap and
        // start-up would count against the baseline's RSS and CPU.
        const pt = spawn(process.execPath, [join(REPO_ROOT, 'bench', 'passthrough.ts'), cluster.bootstrap, 'in', m.passthrough, group, m.mode], { stdio: 'ignore' });
        const base = await measure(`pass-through ${m.mode}`, pt, kafka, group, 'in', () => true, cluster.pid);
        record(`${m.mode}|baseline`, base, base);
        // logsift run with the 2,522-record KB (compiled database from the cache).
        record(`${m.mode}|logsift`, await runLogsift(m.mode, m.out, `bench-logsift-${m.mode}${tag}`), base);
        for (const v of variantsIn(m.mode)) record(`${m.mode}|${v.name}`, await runLogsift(m.mode, v.out, `bench-logsift-${v.out}${tag}`, v.env, v.memoryLimitMiB, v.root, v.nodeArgs), base);
      }
    }
    const line = (key: string): string => {
      const e = runs.get(key)!;
      const killed = e.oomKilled > 0 ? `; OOM-killed in ${e.oomKilled} of ${e.oomKilled + e.rates.length} rounds` : '';
      if (e.rates.length === 0) return `OOM-killed in every round (${e.oomKilled})`;
      const ratios = e.ratios.map((x) => `${(100 * x).toFixed(0)}%`).join(', ');
      return `${fmt(median(e.rates))} msgs/s (${(100 * median(e.ratios)).toFixed(0)}% of the pass-through${ROUNDS > 1 ? `; rounds: ${ratios}` : ''}; once flowing ${(100 * median(e.steady)).toFixed(0)}%, first commit after ${median(e.start).toFixed(1)} s), ${median(e.cpu).toFixed(1)} µs CPU/msg, peak RSS ${median(e.peak).toFixed(0)} MiB, broker ${median(e.broker).toFixed(1)} µs CPU/msg${killed}${threadLine(e)}`;
    };
    // Where the process's CPU went, by thread: µs per message over the run, and the share of one core
    // while the stream flowed (a thread near 100% is a serial stage); then the whole machine's busy
    // cores while it flowed (near all of them: the run is bound by the machine's CPU, every thread's
    // cost counts).
    const threadLine = (e: Runs): string => {
      const parts = [...e.threads]
        .map(([group, t]) => ({ name: THREAD_GROUPS[group] ?? group, us: median(t.us), core: median(t.core) }))
        .filter((t) => t.us >= 0.05)
        .sort((a, b) => b.us - a.us)
        .map((t) => `${t.name} ${t.us.toFixed(1)} µs (${(100 * t.core).toFixed(0)}%)`);
      if (parts.length === 0) return '';
      return `\n      by thread, CPU/msg (share of a core while flowing): ${parts.join(', ')}\n      machine while flowing: ${median(e.machine).toFixed(2)} of ${availableParallelism()} cores busy, ${median(e.steal).toFixed(2)} stolen`;
    };
    for (const m of modes) {
      const b = runs.get(`${m.mode}|baseline`)!;
      summary.push(
        `\n${fmt(N)} messages, ${m.mode} (${m.what})${ROUNDS > 1 ? `, medians of ${ROUNDS} rounds` : ''}:`,
        `  baseline kafkajs pass-through: ${fmt(median(b.rates))} msgs/s (first commit after ${median(b.start).toFixed(1)} s), ${median(b.cpu).toFixed(1)} µs CPU/msg, peak RSS ${median(b.peak).toFixed(0)} MiB, broker ${median(b.broker).toFixed(1)} µs CPU/msg${threadLine(b)}`,
        `  logsift run (2,522 records):   ${line(`${m.mode}|logsift`)}`,
      );
      for (const v of variantsIn(m.mode)) summary.push(`  logsift run, ${v.name}: ${line(`${m.mode}|${v.name}`)}`);
    }
    console.log(summary.join('\n'));
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
