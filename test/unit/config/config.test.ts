import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { enrichWorkers, loadConfig, readSecretFile, redact, settings, workerYoungGenerationMb, type Config } from '../../../src/config/index.js';
import { LogsiftError } from '../../../src/errors.js';
import { REPO_ROOT } from '../../helpers/shared.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logsift-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const minimal = { kafka: { brokers: ['b:9092'] }, input: { topics: ['logs'] }, output: { topic: 'out' } };
/** A thunk loading `content` as the config file: for expect(...).toThrow. */
async function loader(content: unknown, env: Record<string, string> = {}): Promise<() => unknown> {
  const f = await file(content);
  return () => loadConfig({ file: f, env });
}

/** The error `fn` throws; fails the test when it throws nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

async function file(content: unknown): Promise<string> {
  const p = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

describe('configuration', () => {
  it('parses every example config shipped in config/', async () => {
    const files = (await readdir(join(REPO_ROOT, 'config'))).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(() => loadConfig({ file: join(REPO_ROOT, 'config', f), env: {} }), f).not.toThrow();
  });

  it('fills documented defaults and compiles durations and sizes', async () => {
    const c = loadConfig({ file: await file({ ...minimal, shutdownGracePeriod: '1.5s', input: { topics: ['logs'], maxMessageBytes: '2MiB' } }), env: {} });
    expect(c.shutdownGracePeriod).toBe(1500);
    expect(c.input.maxMessageBytes).toBe(2 * 1024 * 1024);
    expect(c.input.groupId).toBe('logsift');
    expect(c.output.dlqTopic).toBe('out.dlq');
    expect(c.delivery.mode).toBe('at-least-once');
    expect(c.http.port).toBe(9464);
    expect(c.kafka.requestTimeout).toBe(30_000);
    expect(c.match.exactBudget).toBe(50);
    expect(c.kafka.startTimeout).toBe(60_000);
    expect(c.http.api).toEqual({ enabled: true, port: null, host: '127.0.0.1' });
  });

  it('takes the exact-engine budget from the environment, and rejects a zero budget', async () => {
    const load = await loader(minimal, { LOGSIFT_MATCH_EXACT_BUDGET: '20ms' });
    expect((load() as { match: { exactBudget: number } }).match.exactBudget).toBe(20);
    const zero = await loader(minimal, { LOGSIFT_MATCH_EXACT_BUDGET: '0' });
    expect(zero).toThrow(/match\.exactBudget.*must be positive/s);
  });

  it('takes match.workers (null: auto from the cores, 0: the event loop) and delivery.maxRequestBytes (0: no group commit)', async () => {
    const c = (await loader(minimal))() as Config;
    expect(c.match.workers).toBeNull();
    expect(enrichWorkers(c, 2)).toBe(1);
    expect(enrichWorkers(c, 1)).toBe(1);
    expect(enrichWorkers(c, 16)).toBe(4);
    expect(c.delivery.maxRequestBytes).toBe(1024 * 1024);
    const set = (await loader(minimal, { LOGSIFT_MATCH_WORKERS: '0', LOGSIFT_DELIVERY_MAX_REQUEST_BYTES: '0' }))() as Config;
    expect(enrichWorkers(set, 16)).toBe(0);
    expect(set.delivery.maxRequestBytes).toBe(0);
    expect(((await loader(minimal, { LOGSIFT_DELIVERY_MAX_REQUEST_BYTES: '2MiB' }))() as Config).delivery.maxRequestBytes).toBe(2 * 1024 * 1024);
    expect(await loader(minimal, { LOGSIFT_MATCH_WORKERS: '-1' })).toThrow(/match\.workers/);
  });

  it('bounds the workers\' young generation by match.workerYoungGeneration, never above Node\'s own size (3/128 of the memory)', async () => {
    const MiB = 1024 * 1024;
    const c = (await loader(minimal))() as Config;
    expect(c.match.workerYoungGeneration).toBe(16 * MiB);
    // Node's own: 96 MiB on a 24 GiB host, 18 in 768 MiB, 12 in 512, 6 in 256 (measured on Node 26).
    expect(workerYoungGenerationMb(c, 24 * 1024 * MiB)).toBe(16);
    expect(workerYoungGenerationMb(c, 768 * MiB)).toBe(16);
    expect(workerYoungGenerationMb(c, 512 * MiB)).toBeUndefined();
    expect(workerYoungGenerationMb(c, 256 * MiB)).toBeUndefined();
    const set = (await loader(minimal, { LOGSIFT_MATCH_WORKER_YOUNG_GENERATION: '48MiB' }))() as Config;
    expect(workerYoungGenerationMb(set, 24 * 1024 * MiB)).toBe(48);
    expect(workerYoungGenerationMb(set, 1536 * MiB)).toBeUndefined(); // Node's own 36 is smaller
    const off = (await loader(minimal, { LOGSIFT_MATCH_WORKER_YOUNG_GENERATION: 'null' }))() as Config;
    expect(workerYoungGenerationMb(off, 24 * 1024 * MiB)).toBeUndefined();
    expect(await loader(minimal, { LOGSIFT_MATCH_WORKER_YOUNG_GENERATION: 'lots' })).toThrow(/match\.workerYoungGeneration/);
  });

  it('takes output.includeLog as true, false or truncated (file or environment), and zstd compression', async () => {
    type Out = { output: { includeLog: string; compression: string } };
    const include = async (value: unknown, env: Record<string, string> = {}) => ((await loader({ ...minimal, output: { ...minimal.output, ...(value === undefined ? {} : { includeLog: value }) } }, env))() as Out).output.includeLog;
    expect(await include(undefined)).toBe('full');
    expect(await include(false)).toBe('none');
    expect(await include('truncated')).toBe('truncated');
    expect(await include(undefined, { LOGSIFT_OUTPUT_INCLUDE_LOG: 'false' })).toBe('none');
    expect(await include(true, { LOGSIFT_OUTPUT_INCLUDE_LOG: 'truncated' })).toBe('truncated');
    await expect(async () => include('sometimes')).rejects.toThrow(/output\.includeLog/);
    const zstd = await loader(minimal, { LOGSIFT_OUTPUT_COMPRESSION: 'zstd' });
    expect((zstd() as Out).output.compression).toBe('zstd');
  });

  it('lets the environment override every setting, named after its path', async () => {
    const names = settings().map((s) => s.env);
    expect(names).toContain('LOGSIFT_KAFKA_SASL_PASSWORD_FILE');
    expect(names).toContain('LOGSIFT_INPUT_GROUP_ID');
    expect(names).toContain('LOGSIFT_SHUTDOWN_GRACE_PERIOD');
    const c = loadConfig({
      file: await file(minimal),
      env: { LOGSIFT_KAFKA_BROKERS: 'x:1, y:2', LOGSIFT_INPUT_GROUP_ID: 'g2', LOGSIFT_HTTP_PORT: '9999', LOGSIFT_METRICS_SIGNATURE_LABEL: 'false', LOGSIFT_OUTPUT_UNMATCHED_TOPIC: 'un', LOGSIFT_SHUTDOWN_GRACE_PERIOD: '5s' },
    });
    expect(c.kafka.brokers).toEqual(['x:1', 'y:2']);
    expect(c.input.groupId).toBe('g2');
    expect(c.http.port).toBe(9999);
    expect(c.metrics.signatureLabel).toBe(false);
    expect(c.output.unmatchedTopic).toBe('un');
    expect(c.shutdownGracePeriod).toBe(5000);
  });

  it('takes metric resource labels (an allowlist, none by default) and OTLP input formats', () => {
    const base = [{ path: ['kafka', 'brokers'], value: ['x:1'], flag: '--brokers' }, { path: ['input', 'topics'], value: ['in'], flag: '--input' }, { path: ['output', 'topic'], value: 'out', flag: '--output' }];
    expect(loadConfig({ env: {}, overrides: base }).metrics).toMatchObject({ labels: [], labelValueLimit: 100 });
    const c = loadConfig({ env: { LOGSIFT_METRICS_LABELS: 'service.name,k8s.namespace.name', LOGSIFT_METRICS_LABEL_VALUE_LIMIT: '20', LOGSIFT_INPUT_FORMAT: 'otlp_proto' }, overrides: base });
    expect(c.metrics).toMatchObject({ labels: ['service.name', 'k8s.namespace.name'], labelValueLimit: 20 });
    expect(c.input.format).toBe('otlp_proto');
    expect(() => loadConfig({ env: { LOGSIFT_METRICS_LABELS: 'pod' }, overrides: base })).toThrow(/LOGSIFT_METRICS_LABELS/);
  });

  it('configures KB watching and the shadow KB, from the file or the environment', async () => {
    const d = loadConfig({ file: await file(minimal), env: {} });
    expect(d.kb).toMatchObject({ watch: true, watchDebounce: 2000, shadow: [], shadowSample: 1 });
    const c = loadConfig({
      file: await file({ ...minimal, kb: { watchDebounce: '500ms', shadowSample: 0.25 } }),
      env: { LOGSIFT_KB_SHADOW: '/etc/logsift/candidate, /tmp/extra.json', LOGSIFT_KB_WATCH: 'false' },
    });
    expect(c.kb).toMatchObject({ watch: false, watchDebounce: 500, shadow: ['/etc/logsift/candidate', '/tmp/extra.json'], shadowSample: 0.25 });
    expect(await loader(minimal, { LOGSIFT_KB_SHADOW_SAMPLE: '2' })).toThrow(/LOGSIFT_KB_SHADOW_SAMPLE.*kb\.shadowSample/);
  });

  it('lets flags override the environment, and works without a file', () => {
    const c = loadConfig({
      env: { LOGSIFT_OUTPUT_TOPIC: 'from-env' },
      overrides: [
        { path: ['kafka', 'brokers'], value: ['f:1'], flag: '--brokers' },
        { path: ['input', 'topics'], value: ['in'], flag: '--input' },
        { path: ['output', 'topic'], value: 'from-flag', flag: '--output' },
      ],
    });
    expect(c.output.topic).toBe('from-flag');
    expect(c.kafka.brokers).toEqual(['f:1']);
  });

  it('names the field and where the bad value came from', async () => {
    const bad = await file({ ...minimal, kafka: { brokers: ['no-port'] } });
    expect(() => loadConfig({ file: bad, env: {} })).toThrow(/kafka\.brokers\.0: must be host:port/);
    const err = thrown(() => loadConfig({ file: bad, env: {} }));
    expect(err).toBeInstanceOf(LogsiftError);
    expect(err).toMatchObject({ field: 'kafka.brokers[0]', code: 'LOGSIFT_CONFIG_INVALID' });
    expect(await loader(minimal, { LOGSIFT_HTTP_PORT: 'abc' })).toThrow(/LOGSIFT_HTTP_PORT must be a number/);
    expect(await loader(minimal, { LOGSIFT_SHUTDOWN_GRACE_PERIOD: 'soon' })).toThrow(/LOGSIFT_SHUTDOWN_GRACE_PERIOD.*not a duration/);
    expect(await loader({ ...minimal, extra: 1 }, {})).toThrow(/Unrecognized key/);
    expect(await loader('{oops', {})).toThrow(/not valid JSON/);
    expect(await loader({ ...minimal, input: {} }, {})).toThrow(/set input.topics or input.topicPattern/);
    expect(await loader({ ...minimal, delivery: { mode: 'exactly-twice' } }, {})).toThrow(/delivery.mode/);
    expect(await loader({ ...minimal, delivery: { transactionalIdPrefix: '' } }, {})).toThrow(/transactionalIdPrefix/);
  });

  it('takes exactly-once delivery with a transactional id prefix from the file or the environment', async () => {
    const fromFile = loadConfig({ file: await file({ ...minimal, delivery: { mode: 'exactly-once' } }), env: {} });
    expect(fromFile.delivery).toMatchObject({ mode: 'exactly-once', transactionalIdPrefix: null });
    const fromEnv = loadConfig({ file: await file(minimal), env: { LOGSIFT_DELIVERY_MODE: 'exactly-once', LOGSIFT_DELIVERY_TRANSACTIONAL_ID_PREFIX: 'pod-a' } });
    expect(fromEnv.delivery).toMatchObject({ mode: 'exactly-once', transactionalIdPrefix: 'pod-a' });
  });

  it('takes secrets from files and never shows them', async () => {
    const secret = join(dir, 'pw');
    await writeFile(secret, 's3cret\n');
    expect(readSecretFile(secret, 'kafka.sasl.passwordFile')).toBe('s3cret');
    const c = loadConfig({ file: await file({ ...minimal, kafka: { brokers: ['b:1'], sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'hunter2' } } }), env: {} });
    expect(JSON.stringify(redact(c))).not.toContain('hunter2');
    expect(await loader({ ...minimal, kafka: { brokers: ['b:1'], sasl: { mechanism: 'plain', username: 'u' } } }, {})).toThrow(/exactly one of password and passwordFile/);
  });
});
