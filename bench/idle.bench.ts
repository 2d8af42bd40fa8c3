/**
 * npm run bench:idle — what an idle daemon costs: once a stream over 64 partitions has been consumed
 * and committed, the CPU `logsift run` uses while nothing arrives, beside a kafkajs pass-through with
 * the same clients (bench/passthrough.ts: one consumer and one producer; exactly-once, a transactional
 * producer per input partition, as logsift's exactly-once delivery has) in the same run, against the
 * same mock cluster. Each process is measured from /proc over BENCH_IDLE_SECONDS (default 10) after
 * BENCH_IDLE_SETTLE (default 5) seconds of quiet; the median of BENCH_REPEAT rounds (default 3).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { Kafka, logLevel } from 'kafkajs';

import { MockCluster } from '../test/helpers/broker.js';
import { produce } from '../test/helpers/kafka.js';
import { DEADENDS_RECORDS, REPO_ROOT, TEST_CACHE_DIR } from '../test/helpers/shared.js';
import { committed, median, procStats } from './common.js';

const PARTITIONS = 64;
const MESSAGES = 6_400;
const WINDOW_S = Number(process.env['BENCH_IDLE_SECONDS'] ?? 10);
const SETTLE_S = Number(process.env['BENCH_IDLE_SETTLE'] ?? 5);
const ROUNDS = Math.max(1, Number(process.env['BENCH_REPEAT'] ?? 3));
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** Waits for the group to commit the whole input, lets it settle, then measures: % of one core. */
async function idleCpu(name: string, child: ChildProcess, kafka: Kafka, group: string): Promise<number> {
  const deadline = Date.now() + 120_000;
  while ((await committed(kafka, group, 'in')) < MESSAGES) {
    if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error(`${name} did not commit the input within 120 s`);
    await sleep(0.2);
  }
  await sleep(SETTLE_S);
  const c0 = procStats(child.pid!).cpuSeconds;
  await sleep(WINDOW_S);
  const used = procStats(child.pid!).cpuSeconds - c0;
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return (100 * used) / WINDOW_S;
}

async function main(): Promise<void> {
  const modes = ['at-least-once', 'exactly-once'] as const;
  const topics: Record<string, number> = { in: PARTITIONS };
  for (const m of modes) for (let r = 0; r < ROUNDS; r++) Object.assign(topics, { [`pt-${m}-${r}`]: PARTITIONS, [`ls-${m}-${r}`]: PARTITIONS, [`ls-${m}-${r}.dlq`]: 1 });
  const cluster = await MockCluster.start({ topics });
  try {
    await produce(
      cluster.brokers,
      'in',
      Array.from({ length: MESSAGES }, (_, i) => ({ key: null, partition: i % PARTITIONS, value: `2026-12-06 09:00:${String(i % 60).padStart(2, '0')} ERROR worker-${i % 7} connect ECONNREFUSED 10.0.0.${i % 250}:5432` })),
    );
    const kafka = new Kafka({ clientId: 'bench-idle', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const results = new Map<string, number[]>();
    const add = (k: string, v: number) => results.set(k, [...(results.get(k) ?? []), v]);
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of modes) {
        const ptGroup = `idle-pt-${mode}-${r}`;
        const pt = spawn(process.execPath, [join(REPO_ROOT, 'bench', 'passthrough.ts'), cluster.bootstrap, 'in', `pt-${mode}-${r}`, ptGroup, mode], { stdio: 'ignore' });
        add(`${mode}|pass-through`, await idleCpu('pass-through', pt, kafka, ptGroup));
        const lsGroup = `idle-ls-${mode}-${r}`;
        const ls = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'logsift.js'), 'run', '--brokers', cluster.bootstrap, '--input', 'in', '--output', `ls-${mode}-${r}`, '--group', lsGroup, '--kb', DEADENDS_RECORDS, '--http-port', '0', '--delivery', mode], {
          stdio: 'ignore',
          env: { ...process.env, LOGSIFT_KB_CACHE_DIR: TEST_CACHE_DIR, LOGSIFT_LOG_LEVEL: 'warn' },
        });
        add(`${mode}|logsift`, await idleCpu('logsift run', ls, kafka, lsGroup));
      }
    }
    console.log(`idle CPU after ${MESSAGES.toLocaleString('en-US')} messages over ${PARTITIONS} partitions, ${WINDOW_S} s windows, medians of ${ROUNDS} rounds (% of one core):`);
    for (const mode of modes) {
      const pt = median(results.get(`${mode}|pass-through`)!);
      const ls = median(results.get(`${mode}|logsift`)!);
      const each = (k: string) => results.get(`${mode}|${k}`)!.map((v) => v.toFixed(1)).join(', ');
      console.log(`  ${mode}: kafkajs pass-through ${pt.toFixed(1)}% (${each('pass-through')}), logsift run ${ls.toFixed(1)}% (${each('logsift')}): ${(ls / pt).toFixed(2)}× the pass-through`);
    }
  } finally {
    await cluster.stop();
  }
}

await main();
