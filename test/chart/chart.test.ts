/**
 * The Helm chart, rendered by tools/helm-render for the default values and every value set in
 * helm/logsift/ci/, then checked the way a cluster and the daemon would check it: each object against
 * the Kubernetes (and Prometheus Operator, KEDA) API schemas, the ConfigMap's config against logsift's
 * own config schema, the probes against the daemon's HTTP server.
 */
import { execFile } from 'node:child_process';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { loadConfig, type Config } from '../../src/config/index.js';
import { createHttpServer, listen } from '../../src/http/index.js';
import { LogsiftMetrics } from '../../src/telemetry/index.js';
import { CHART_DIR, helmRender, parseManifests, renderChart, type K8sObject, type Manifest } from '../helpers/helm.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { useTempDirs } from '../helpers/temp.js';

const exec = promisify(execFile);
const tempDir = useTempDirs('logsift-chart');

type Model = new (data: unknown) => { validate(): void };
/** Model modules by apiVersion: every rendered apiVersion must be here, so nothing goes unvalidated. */
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
  'keda.sh/v1alpha1': () => import('@kubernetes-models/keda/keda.sh/v1alpha1'),
};

async function validateObject(o: K8sObject): Promise<void> {
  const load = MODELS[o.apiVersion];
  if (!load) throw new Error(`no API schema for ${o.apiVersion}`);
  const model = (await load())[o.kind] as Model | undefined;
  if (!model) throw new Error(`no API schema for ${o.apiVersion} ${o.kind}`);
  new model(o).validate();
}

interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: object }[];
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  emptyDir?: object;
  configMap?: { name: string };
  secret?: { secretName: string; items: { key: string; path: string }[] };
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number; seccompProfile: { type: string } };
  containers: Container[];
  volumes: Volume[];
}
interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

function find(manifests: readonly Manifest[], kind: string, name?: string): K8sObject {
  const found = manifests.filter((m) => m.object.kind === kind && (name === undefined || m.object.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!.object;
}

function deployment(manifests: readonly Manifest[]): DeploymentSpec {
  return find(manifests, 'Deployment')['spec'] as DeploymentSpec;
}

/**
 * The daemon's config as the pod reads it: the ConfigMap's config.json loaded by logsift's own loader
 * with the container's environment (LOGSIFT_* variables override the file, as in the pod).
 */
async function daemonConfig(manifests: readonly Manifest[]): Promise<Config> {
  const cm = find(manifests, 'ConfigMap', 'release-name-logsift') as K8sObject & { data: Record<string, string> };
  const file = join(await tempDir(), 'config.json');
  await writeFile(file, cm.data['config.json']!);
  const env = Object.fromEntries((deployment(manifests).template.spec.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
  return loadConfig({ file, env });
}

const ciDir = join(CHART_DIR, 'ci');
const ciFiles = (await readdir(ciDir)).filter((f) => f.endsWith('-values.yaml')).sort();
const valueSets: [string, string[]][] = [['default values', []], ...ciFiles.map((f): [string, string[]] => [f, ['-f', join(ciDir, f)]])];
const rendered = new Map<string, Manifest[]>();

beforeAll(async () => {
  // One render per value set, shared by the tests below.
  for (const [name, args] of valueSets) rendered.set(name, await renderChart(args));
});

describe('chart rendering', () => {
  it('has the value sets the chart promises to support', () => {
    expect(ciFiles).toEqual(['autoscaling-hpa-values.yaml', 'autoscaling-keda-values.yaml', 'external-kb-values.yaml', 'monitoring-values.yaml', 'sasl-existing-secret-values.yaml']);
  });

  it.each(valueSets)('%s: every object is valid against its Kubernetes API schema', async (name) => {
    const manifests = rendered.get(name)!;
    expect(manifests.length).toBeGreaterThanOrEqual(4);
    for (const m of manifests) {
      await expect(validateObject(m.object), `${m.source}: ${m.object.kind}`).resolves.toBeUndefined();
      expect(m.object.metadata.labels?.['app.kubernetes.io/instance']).toBe('release-name');
    }
  });

  it('an invalid object is caught by the API schema check', async () => {
    const d = structuredClone(find(rendered.get('default values')!, 'Deployment'));
    (d['spec'] as DeploymentSpec).template.spec.containers[0]!.ports[0]!.containerPort = 'http' as unknown as number;
    await expect(validateObject(d)).rejects.toThrow(/containerPort must be integer/);
    await expect(validateObject({ ...d, apiVersion: 'apps/v1beta1' })).rejects.toThrow(/no API schema/);
  });

  it.each(valueSets)('%s: the config in the ConfigMap parses with logsift\'s config schema', async (name) => {
    const config = await daemonConfig(rendered.get(name)!);
    expect(config.kafka.brokers.length).toBeGreaterThan(0);
    expect(config.kb.cacheDir).toBe('/var/cache/logsift');
  });

  it.each(valueSets)('%s: terminationGracePeriodSeconds exceeds the daemon\'s shutdown grace period', async (name) => {
    const manifests = rendered.get(name)!;
    const graceMs = (await daemonConfig(manifests)).shutdownGracePeriod;
    expect(deployment(manifests).template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(graceMs);
  });

  it('derives the termination grace from the daemon\'s, whatever its unit', async () => {
    for (const [grace, expected] of [['2m', 135], ['1500ms', 17], [90000, 105], ['1h', 3615]] as const) {
      const d = deployment(await renderChart(['--set', `config.shutdownGracePeriod=${grace}`]));
      expect(d.template.spec.terminationGracePeriodSeconds, String(grace)).toBe(expected);
    }
    const d = deployment(await renderChart(['--set', 'terminationGraceMarginSeconds=5']));
    expect(d.template.spec.terminationGracePeriodSeconds).toBe(35);
  });

  describe('probes hit the daemon\'s real endpoints on its configured port', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createHttpServer({ metrics: new LogsiftMetrics({ signatureLabel: true }), readiness: () => ({ kbLoaded: true }), enricher: () => null });
      base = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
    });

    it.each(valueSets)('%s', async (name) => {
      const manifests = rendered.get(name)!;
      const c = deployment(manifests).template.spec.containers[0]!;
      const port = c.ports.find((p) => p.name === 'http');
      expect(port?.containerPort).toBe((await daemonConfig(manifests)).http.port);
      const probes = { startup: c.startupProbe, liveness: c.livenessProbe, readiness: c.readinessProbe };
      expect(Object.values(probes).map((p) => p.httpGet.port)).toEqual(['http', 'http', 'http']);
      expect(probes.readiness.httpGet.path).toBe('/readyz');
      for (const probe of Object.values(probes)) expect((await fetch(`${base}${probe.httpGet.path}`)).status, probe.httpGet.path).toBe(200);
      const service = find(manifests, 'Service')['spec'] as { selector: Record<string, string>; ports: { targetPort: string }[] };
      expect(service.ports[0]!.targetPort).toBe('http');
      expect(service.selector).toEqual(deployment(manifests).selector.matchLabels);
    });

    it('a port other than the default is followed by the container port and the config', async () => {
      const manifests = await renderChart(['--set', 'config.http.port=8080']);
      expect(deployment(manifests).template.spec.containers[0]!.ports[0]!.containerPort).toBe(8080);
      expect((await daemonConfig(manifests)).http.port).toBe(8080);
    });
  });

  it('runs non-root on a read-only root filesystem, the KB cache on a writable emptyDir', () => {
    const spec = deployment(rendered.get('default values')!).template.spec;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    const c = spec.containers[0]!;
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // Both cache variables (the image sets LOGSIFT_KB_CACHE_DIR, which overrides kb.cacheDir) name the emptyDir.
    for (const name of ['LOGSIFT_CACHE_DIR', 'LOGSIFT_KB_CACHE_DIR']) {
      const cacheDir = c.env?.find((e) => e.name === name)?.value;
      const mount = c.volumeMounts.find((m) => m.mountPath === cacheDir);
      expect(mount, name).toBeDefined();
      expect(spec.volumes.find((v) => v.name === mount!.name)?.emptyDir, name).toBeDefined();
    }
  });

  it('the cache emptyDir has a size limit unless it is unset', async () => {
    const volumes = async (args: string[]) => deployment(await renderChart(args)).template.spec.volumes;
    expect((await volumes([])).find((v) => v.name === 'cache')?.emptyDir).toEqual({ sizeLimit: '256Mi' });
    expect((await volumes(['--set', 'cache.sizeLimit=null'])).find((v) => v.name === 'cache')?.emptyDir).toEqual({});
  });

  it('probes keep their HTTP check when their tuning values are emptied', async () => {
    const c = deployment(await renderChart(['--set', 'startupProbe=null,livenessProbe=null,readinessProbe=null'])).template.spec.containers[0]!;
    expect([c.startupProbe, c.livenessProbe, c.readinessProbe]).toEqual([{ httpGet: { path: '/healthz', port: 'http' } }, { httpGet: { path: '/healthz', port: 'http' } }, { httpGet: { path: '/readyz', port: 'http' } }]);
  });

  it('default values: a PDB, no autoscaler, fixed replicas', () => {
    const manifests = rendered.get('default values')!;
    expect(manifests.map((m) => m.object.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service']);
    expect(deployment(manifests).replicas).toBe(2);
    expect(find(manifests, 'PodDisruptionBudget')['spec']).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: deployment(manifests).selector.matchLabels } });
  });

  it('SASL: the password comes from the existing Secret through kafka.sasl.passwordFile', async () => {
    const manifests = rendered.get('sasl-existing-secret-values.yaml')!;
    const config = await daemonConfig(manifests);
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'logsift', passwordFile: '/etc/logsift/secrets/kafka-password' });
    const spec = deployment(manifests).template.spec;
    const volume = spec.volumes.find((v) => v.secret?.secretName === 'logsift-kafka');
    expect(volume?.secret?.items).toEqual([{ key: 'kafka-password', path: 'kafka-password' }]);
    expect(spec.containers[0]!.volumeMounts).toContainEqual({ name: volume!.name, mountPath: '/etc/logsift/secrets', readOnly: true });
    expect(JSON.stringify(manifests)).not.toMatch(/"password":/);
  });

  it('external KB: the ConfigMap is mounted and listed in kb.paths', async () => {
    const manifests = rendered.get('external-kb-values.yaml')!;
    expect((await daemonConfig(manifests)).kb.paths).toEqual(['/app/data/kb', '/etc/logsift/kb']);
    const spec = deployment(manifests).template.spec;
    const volume = spec.volumes.find((v) => v.configMap?.name === 'logsift-kb');
    expect(spec.containers[0]!.volumeMounts).toContainEqual({ name: volume!.name, mountPath: '/etc/logsift/kb', readOnly: true });
  });

  it('nodeOptions and extraEnv: NODE_OPTIONS and the extra variables follow the chart\'s own; none by default', async () => {
    const names = (d: DeploymentSpec): string[] => d.template.spec.containers[0]!.env!.map((e) => e.name);
    expect(names(deployment(rendered.get('default values')!))).toEqual(['LOGSIFT_CACHE_DIR', 'LOGSIFT_KB_CACHE_DIR']);
    const file = join(await tempDir(), 'env-values.yaml');
    await writeFile(
      file,
      [
        'nodeOptions: "--max-semi-space-size=32 --max-old-space-size=4192"',
        'extraEnv:',
        '  - { name: LOGSIFT_MATCH_MIN_STRENGTH, value: "0.6" }',
        '  - name: LOGSIFT_KAFKA_CLIENT_ID',
        '    valueFrom: { fieldRef: { fieldPath: metadata.name } }',
        '',
      ].join('\n'),
    );
    const manifests = await renderChart(['-f', file]);
    for (const m of manifests) await validateObject(m.object);
    const env = deployment(manifests).template.spec.containers[0]!.env!;
    expect(env.map((e) => e.name)).toEqual(['LOGSIFT_CACHE_DIR', 'LOGSIFT_KB_CACHE_DIR', 'NODE_OPTIONS', 'LOGSIFT_MATCH_MIN_STRENGTH', 'LOGSIFT_KAFKA_CLIENT_ID']);
    expect(env[2]).toEqual({ name: 'NODE_OPTIONS', value: '--max-semi-space-size=32 --max-old-space-size=4192' });
    expect(env[4]).toEqual({ name: 'LOGSIFT_KAFKA_CLIENT_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    // Node accepts these flags in NODE_OPTIONS (it refuses some V8 flags there, and would not start).
    await exec(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: env[2]!.value } });
  });

  it('monitoring: the PrometheusRule is files/logsift-rules.yml, the dashboard the JSON file, the ServiceMonitor scrapes /metrics', async () => {
    const manifests = rendered.get('monitoring-values.yaml')!;
    const rules = parse(await readFile(join(CHART_DIR, 'files', 'logsift-rules.yml'), 'utf8')) as unknown;
    expect(find(manifests, 'PrometheusRule')['spec']).toEqual(rules);
    const dashboard = find(manifests, 'ConfigMap', 'release-name-logsift-dashboard') as K8sObject & { data: Record<string, string> };
    expect(JSON.parse(dashboard.data['logsift.json']!)).toEqual(JSON.parse(await readFile(join(CHART_DIR, 'files', 'logsift-dashboard.json'), 'utf8')));
    expect(dashboard.metadata).toMatchObject({ namespace: 'monitoring', labels: { grafana_dashboard: '1' }, annotations: { grafana_folder: 'logsift' } });
    const sm = find(manifests, 'ServiceMonitor') as K8sObject & { spec: { selector: { matchLabels: object }; endpoints: object[] } };
    expect(sm.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
    expect(sm.spec.selector.matchLabels).toEqual(deployment(manifests).selector.matchLabels);
  });

  it('HPA: the autoscaler owns the replica count and targets the Deployment', () => {
    const manifests = rendered.get('autoscaling-hpa-values.yaml')!;
    expect(deployment(manifests).replicas).toBeUndefined();
    expect(find(manifests, 'HorizontalPodAutoscaler')['spec']).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'release-name-logsift' }, minReplicas: 3, maxReplicas: 12 });
    expect(manifests.some((m) => m.object.kind === 'ScaledObject')).toBe(false);
    // tpl rendered the Release name inside the user's topologySpreadConstraints.
    expect(JSON.stringify(deployment(manifests).template.spec)).toContain('"app.kubernetes.io/instance":"release-name"');
    expect(find(manifests, 'PodDisruptionBudget')['spec']).toMatchObject({ minAvailable: 2 });
  });

  it('KEDA: a kafka trigger on the daemon\'s consumer group lag', async () => {
    const manifests = rendered.get('autoscaling-keda-values.yaml')!;
    const config = await daemonConfig(manifests);
    expect(deployment(manifests).replicas).toBeUndefined();
    expect(manifests.some((m) => m.object.kind === 'HorizontalPodAutoscaler')).toBe(false);
    const so = find(manifests, 'ScaledObject')['spec'] as { scaleTargetRef: { name: string }; triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[] };
    expect(so.scaleTargetRef.name).toBe('release-name-logsift');
    expect(so.triggers).toEqual([
      {
        type: 'kafka',
        // Two input topics: no topic, so KEDA sums the lag of every topic the group commits.
        metadata: { bootstrapServers: config.kafka.brokers.join(','), consumerGroup: config.input.groupId, lagThreshold: '50000', activationLagThreshold: '0', offsetResetPolicy: 'latest' },
        authenticationRef: { name: 'logsift-kafka-auth' },
      },
    ]);
  });

  it('KEDA, HPA and replica numbers from a values file print as integers (Helm reads them as float64)', async () => {
    const file = join(await tempDir(), 'big-values.yaml');
    // An API server reads 1e+06 as a float, which no int32 field accepts: the text itself must be integral.
    const render = async (values: string) => {
      await writeFile(file, values);
      const r = await helmRender(['-f', file, CHART_DIR]);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toMatch(/\de\+\d/);
      return parseManifests(r.stdout);
    };
    const so = find(await render('keda:\n  enabled: true\n  lagThreshold: 2000000\n  maxReplicaCount: 1000000\n'), 'ScaledObject')['spec'] as { maxReplicaCount: number; triggers: { metadata: Record<string, string> }[] };
    expect(so.maxReplicaCount).toBe(1_000_000);
    expect(so.triggers[0]!.metadata['lagThreshold']).toBe('2000000');
    expect(deployment(await render('replicaCount: 1000000\n')).replicas).toBe(1_000_000);
    expect(find(await render('autoscaling: { enabled: true, maxReplicas: 1000000 }\n'), 'HorizontalPodAutoscaler')['spec']).toMatchObject({ maxReplicas: 1_000_000 });
  });

  it('KEDA with one input topic measures that topic', async () => {
    const so = find(await renderChart(['--set', 'keda.enabled=true']), 'ScaledObject')['spec'] as { triggers: { metadata: Record<string, string> }[] };
    expect(so.triggers[0]!.metadata).toMatchObject({ topic: 'app-logs', offsetResetPolicy: 'earliest' });
  });

  it('NOTES.txt tells where the daemon reads, writes and serves', async () => {
    const r = await helmRender(['--notes', '-n', 'logs', '-f', join(ciDir, 'autoscaling-keda-values.yaml'), 'prod', CHART_DIR]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('consuming app-logs, audit-logs');
    expect(r.stdout).toContain('kubectl -n logs port-forward svc/prod-logsift 9464');
    expect(r.stdout).toContain('KEDA on the group\'s lag (2-16 replicas');
  });
});

describe('invalid values are refused with the reason', () => {
  it.each([
    ['no config', ['--set', 'config=null'], 'config: the daemon\'s configuration'],
    ['no brokers', ['--set', 'config.kafka.brokers=null'], 'config.kafka.brokers: set at least one Kafka bootstrap server'],
    ['an empty broker list', ['--set', 'config.kafka.brokers={}'], 'config.kafka.brokers: set at least one Kafka bootstrap server'],
    ['no output topic', ['--set', 'config.output.topic='], 'config.output.topic is required'],
    ['no input', ['--set', 'config.input.topics=null'], 'config.input: set topics or topicPattern'],
    ['HTTP off', ['--set', 'config.http.enabled=false'], 'config.http.enabled must stay true'],
    ['a password in the ConfigMap', ['--set', 'config.kafka.sasl.mechanism=plain,config.kafka.sasl.username=u,config.kafka.sasl.password=p'], 'put it in a Secret'],
    ['a Secret without a SASL user', ['--set', 'sasl.existingSecret=s'], 'sasl.existingSecret needs config.kafka.sasl.mechanism'],
    ['both autoscalers', ['--set', 'autoscaling.enabled=true,keda.enabled=true'], 'enable one'],
    ['a bad grace period', ['--set', 'config.shutdownGracePeriod=soon'], 'config.shutdownGracePeriod: not a duration: "soon"'],
    ['a fixed termination grace', ['--set', 'terminationGracePeriodSeconds=10'], 'terminationGracePeriodSeconds is derived from config.shutdownGracePeriod'],
    ['the old SASL key', ['--set', 'kafkaPasswordSecret=s'], 'kafkaPasswordSecret was renamed: set sasl.existingSecret'],
    ['the old KB key', ['--set', 'kbConfigMap=k'], 'kbConfigMap was renamed: set kb.existingConfigMap'],
  ])('%s', async (_name, args, message) => {
    const r = await helmRender([...args, CHART_DIR]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: execution error at \(logsift\/templates\/[a-z]+\.yaml:\d+:\d+\): /);
    expect(r.stderr).toContain(message);
  });
});

describe('values.schema.json', () => {
  const validate = async () => new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(await readFile(join(CHART_DIR, 'values.schema.json'), 'utf8')) as object);
  const mergedValues = async (args: readonly string[]): Promise<unknown> => {
    const r = await helmRender(['--show-values', ...args, CHART_DIR]);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as unknown;
  };

  it.each(valueSets)('accepts %s', async (_name, args) => {
    const check = await validate();
    expect(check(await mergedValues(args)), JSON.stringify(check.errors)).toBe(true);
  });

  it.each([
    ['a broker without a port', ['--set', 'config.kafka.brokers={kafka}'], '/config/kafka/brokers/0'],
    ['no brokers', ['--set', 'config.kafka.brokers={}'], '/config/kafka/brokers'],
    ['replicas as text', ['--set-string', 'replicaCount=two'], '/replicaCount'],
    ['an unknown setting (a typo)', ['--set', 'replicas=3'], 'must NOT have additional properties'],
    ['the renamed SASL key', ['--set', 'kafkaPasswordSecret=s'], 'must NOT have additional properties'],
    ['a password in the values', ['--set', 'config.kafka.sasl.password=p'], '/config/kafka/sasl'],
    ['a bad grace period', ['--set', 'config.shutdownGracePeriod=soon'], '/config/shutdownGracePeriod'],
    ['a bad pull policy', ['--set', 'image.pullPolicy=Sometimes'], '/image/pullPolicy'],
    ['extraEnv as text, not a list of EnvVar', ['--set-string', 'extraEnv=LOGSIFT_X=1'], '/extraEnv'],
  ])('rejects %s', async (_name, args, where) => {
    const check = await validate();
    expect(check(await mergedValues(args))).toBe(false);
    expect(JSON.stringify(check.errors)).toContain(where);
  });
});

it('the chart README\'s parameter tables are generated from values.yaml and up to date', async () => {
  const dir = await tempDir();
  await copyFile(join(CHART_DIR, 'values.yaml'), join(dir, 'values.yaml'));
  await copyFile(join(CHART_DIR, 'README.md'), join(dir, 'README.md'));
  const bin = join(REPO_ROOT, 'node_modules', '@bitnami', 'readme-generator-for-helm', 'bin', 'index.js');
  await exec(process.execPath, [bin, '--values', join(dir, 'values.yaml'), '--readme', join(dir, 'README.md')]);
  expect(await readFile(join(dir, 'README.md'), 'utf8'), 'run npm run chart:readme').toBe(await readFile(join(CHART_DIR, 'README.md'), 'utf8'));
});
