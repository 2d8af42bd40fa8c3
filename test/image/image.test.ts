/**
 * The container image as users build it (tools/container/build.sh: the project's Dockerfile on local
 * stand-ins for the official node images), run with podman: --version, scan, the daemon on the mock
 * broker over the host network, probes from outside, SIGTERM through `podman stop`, non-root with a
 * read-only root filesystem and a writable cache.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MockCluster } from '../helpers/broker.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/prometheus.js';
import { REPO_ROOT, STARTER_KB, TEST_CACHE_DIR } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const IMAGE = 'localhost/logsift:test';
const BUILD = join(REPO_ROOT, 'tools', 'container', 'build.sh');
const DEMO = join(REPO_ROOT, 'data', 'samples', 'demo.log');
const GRACE_SECONDS = 20;
let env: NodeJS.ProcessEnv = process.env;

async function podman(args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    child.stdin.end(input ?? '');
  });
}

/** Sum of the high watermarks of a topic: how many records it holds. */
async function topicCount(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high), 0);
}

async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}

beforeAll(async () => {
  const vars = (await run('bash', [BUILD], { env: { ...process.env, LOGSIFT_CONTAINER_ENV: '1' } })).stdout;
  env = { ...process.env, ...Object.fromEntries(vars.trim().split('\n').map((l) => l.split('=', 2) as [string, string])) };
  const started = Date.now();
  await run('bash', [BUILD, IMAGE], { env, maxBuffer: 64 << 20 });
  console.log(`image: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const size = async (image: string): Promise<number> => Number((await podman(['image', 'inspect', '--format', '{{.Size}}', image])).stdout.trim());
  const base = (await podman(['image', 'inspect', '--format', '{{index .Labels "node.version"}}', IMAGE])).stdout.trim();
  const [own, slim] = [await size(IMAGE), await size(`localhost/node:${base.split('.')[0]}-bookworm-slim`)];
  console.log(`image: ${(own / 1e6).toFixed(0)} MB, ${((own - slim) / 1e6).toFixed(0)} MB over its base (Node.js ${base})`);
});

describe('the container image', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await podman(['run', '--rm', IMAGE, '--version']);
    expect(r.stdout).toBe(`logsift ${pkg.version}\n`);
    expect(r.code).toBe(0);
  });

  it('scans the demo file like the host does, non-root on a read-only root, from the bundled compiled database', async () => {
    const r = await podman(['run', '--rm', '-i', '--read-only', '--tmpfs', '/var/cache/logsift:rw,mode=1777', IMAGE, 'scan'], await readFile(DEMO, 'utf8'));
    expect(r.code).toBe(0);
    const host = await runCli(['scan', '--kb', STARTER_KB, '--cache-dir', TEST_CACHE_DIR, '--input', DEMO]);
    const ids = (out: string): string[] => out.trim().split('\n').map((l) => (JSON.parse(l) as { signature_id: string }).signature_id);
    expect(ids(r.stdout)).toEqual(ids(host.stdout));
    expect(ids(r.stdout).length).toBeGreaterThan(10);
    // The portable database shipped in the image, not a compile at start; without it, a compile.
    const loaded = /loaded compiled database from cache in ([\d.]+) ms/.exec(r.stderr);
    expect(loaded, r.stderr).not.toBeNull();
    expect(r.stderr).not.toMatch(/compiling/);
    const without = await podman(['run', '--rm', '-i', '--read-only', '--tmpfs', '/var/cache/logsift:rw,mode=1777', '-e', 'LOGSIFT_KB_PREBUILT_DIR=', IMAGE, 'scan'], await readFile(DEMO, 'utf8'));
    const compiled = /compiled \d+ patterns \(ascii\) in ([\d.]+) s/.exec(without.stderr);
    expect(compiled, without.stderr).not.toBeNull();
    expect(ids(without.stdout)).toEqual(ids(host.stdout));
    console.log(`image: bundled KB from the shipped database in ${loaded![1]} ms; without it (baseline, same run) compiled in ${compiled![1]} s`);

    const who = await podman(['run', '--rm', '--read-only', '--entrypoint', 'sh', IMAGE, '-c', 'id -u; touch /app/x 2>&1 || echo read-only']);
    expect(who.stdout).toMatch(/^1000\n.*read-only/s);
  });

  it('keeps a writable cache on a read-only root: a KB that is not bundled compiles once and is cached', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'logsift-image-cache-'));
    try {
      await chown(cache, 1000, 1000);
      const args = ['run', '--rm', '-i', '--read-only', '-v', `${cache}:/var/cache/logsift`, IMAGE, 'scan', '--kb', '/app/data/kb/go.json'];
      const first = await podman(args, 'fatal error: concurrent map writes\n');
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(/compiled \d+ patterns/);
      expect(first.stderr).not.toMatch(/could not write/);
      // One ASCII database (and, beside it, a Unicode one when the KB has Unicode-sensitive records).
      expect((await readdir(cache)).filter((f) => f.endsWith('.lsdb') && !f.endsWith('.u.lsdb'))).toHaveLength(1);
      const second = await podman(args, 'fatal error: concurrent map writes\n');
      expect(second.stderr).toMatch(/loaded compiled database from cache/);
      expect(JSON.parse(second.stdout) as { signature_id: string }).toMatchObject({ signature_id: 'go/concurrent-map-writes' });
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  describe('logsift run on the host network', () => {
    let cluster: MockCluster;
    let admin: Admin;
    const name = randomName('image');
    const topics = { input: `${name}.in`, events: `${name}.events`, unmatched: `${name}.unmatched`, dlq: `${name}.dlq` };
    const group = `${name}.group`;

    beforeAll(async () => {
      cluster = await MockCluster.start({ topics: { [topics.input]: 2, [topics.events]: 2, [topics.unmatched]: 2, [topics.dlq]: 1 } });
      admin = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
    });
    afterAll(async () => {
      await podman(['rm', '-f', name]);
      await admin?.disconnect();
      await cluster?.stop();
    });

    it('consumes a known stream, answers probes from outside, and stops cleanly on SIGTERM with nothing lost', async () => {
      const demo = (await readFile(DEMO, 'utf8')).split('\n').filter(Boolean);
      const matched = (await runCli(['scan', '--kb', STARTER_KB, '--cache-dir', TEST_CACHE_DIR, '--input', DEMO])).stdout.trim().split('\n').length;
      const producer = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      try {
        await producer.send({ topic: topics.input, messages: demo.map((value, i) => ({ key: String(i), value })) });
        const port = await freePort();
        const started = Date.now();
        const r = await podman([
          'run', '-d', '--name', name, '--network=host', '--read-only', '--tmpfs', '/var/cache/logsift:rw,mode=1777',
          '-e', `LOGSIFT_SHUTDOWN_GRACE_PERIOD=${GRACE_SECONDS - 5}s`, '-e', 'LOGSIFT_INPUT_SESSION_TIMEOUT=8s', '-e', 'LOGSIFT_INPUT_HEARTBEAT_INTERVAL=1s',
          IMAGE, 'run', '--brokers', cluster.bootstrap, '--input', topics.input, '--output', topics.events, '--unmatched', topics.unmatched,
          '--dlq', topics.dlq, '--group', group, '--http-port', String(port),
        ]);
        expect(r.code, r.stderr).toBe(0);
        const url = `http://127.0.0.1:${port}`;
        await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'the container to be ready', 60_000, 50);
        const readyMs = Date.now() - started;
        expect((await fetch(`${url}/healthz`)).status).toBe(200);
        expect((await podman(['exec', name, 'id', '-u'])).stdout.trim()).toBe('1000');
        expect((await podman(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', name])).stdout.trim()).toBe('true');

        // The known stream: every message committed, each matched one an event, each other one unmatched.
        await waitFor(async () => (await committed(admin, group, topics.input)) === demo.length, 'the demo stream to be committed', 60_000, 200);
        expect(await topicCount(admin, topics.events)).toBe(matched);
        expect(await topicCount(admin, topics.unmatched)).toBe(demo.length - matched);

        // More traffic, then SIGTERM while it flows: a clean exit within the grace period, and every
        // committed message has its output record (the rest is re-read on restart: nothing lost).
        const more = Array.from({ length: 4000 }, (_, i) => ({ key: String(i), value: demo[i % demo.length]! }));
        await producer.send({ topic: topics.input, messages: more });
        const stopped = await podman(['stop', '--time', String(GRACE_SECONDS), name]);
        expect(stopped.code, stopped.stderr).toBe(0);
        const state = JSON.parse((await podman(['inspect', '--format', '{{json .State}}', name])).stdout) as { ExitCode: number; OOMKilled: boolean };
        expect(state.ExitCode).toBe(0);
        const done = await committed(admin, group, topics.input);
        expect(done).toBeGreaterThanOrEqual(demo.length);
        expect((await topicCount(admin, topics.events)) + (await topicCount(admin, topics.unmatched))).toBe(done);
        expect(await topicCount(admin, topics.dlq)).toBe(0);
        const logs = await podman(['logs', name]);
        const text = logs.stdout + logs.stderr;
        expect(text).toMatch(/shutting down/);
        expect(text).not.toMatch(/grace period exceeded/);
        // Where start-to-ready goes (reported, not asserted): the container and Node.js (a `--version`
        // run), the KB load (the shipped database), the Kafka group join.
        const lines = text.split('\n').flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as { time: string; msg: string; seconds?: number; from_cache?: boolean }] : []));
        const at = (msg: string): number => Date.parse(lines.find((l) => l.msg.startsWith(msg))?.time ?? '');
        const kb = lines.find((l) => l.msg === 'knowledge base loaded');
        expect(kb?.from_cache).toBe(true);
        const startedAt = Number((await podman(['inspect', '--format', '{{.State.StartedAt.UnixMilli}}', name])).stdout.trim());
        const t0 = Date.now();
        await podman(['run', '--rm', IMAGE, '--version']);
        console.log(
          `image: ready ${readyMs} ms after \`podman run\` (same run: \`podman run --rm IMAGE --version\` ${Date.now() - t0} ms); ` +
            `container started to KB loaded ${at('knowledge base loaded') - startedAt} ms (from the shipped database: ` +
            `${((kb?.seconds ?? 0) * 1000).toFixed(0)} ms), KB loaded to consumer group joined ${at('joined consumer group') - at('knowledge base loaded')} ms`,
        );
      } finally {
        await producer.disconnect();
      }
    });
  });
});
