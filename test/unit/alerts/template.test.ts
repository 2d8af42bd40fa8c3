/** The shipped Alertmanager route and notification template, checked with Debian's amtool. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../helpers/shared.js';

const DIR = join(REPO_ROOT, 'helm', 'logsift', 'files', 'alertmanager');
const TEMPLATE = join(DIR, 'logsift.tmpl');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'logsift-am-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const render = async (data: unknown, text: string): Promise<string> => {
  const file = join(tmp, `data-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(file, JSON.stringify(data));
  return execFileSync('amtool', ['template', 'render', `--template.glob=${TEMPLATE}`, `--template.data=${file}`, `--template.text=${text}`], { encoding: 'utf8' });
};

const group = (annotations: Record<string, string>, labels: Record<string, string>) => ({
  receiver: 'errors-chat',
  status: 'firing',
  alerts: [{ status: 'firing', labels, annotations, startsAt: '2026-11-23T10:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'f1' }],
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: annotations,
  externalURL: 'http://alertmanager:9093',
});

describe('Alertmanager files', () => {
  it('the example route and receivers pass amtool check-config, with the template loaded', async () => {
    const config = readFileSync(join(DIR, 'alertmanager.example.yml'), 'utf8').replace('/etc/alertmanager/templates/logsift.tmpl', TEMPLATE);
    const file = join(tmp, 'alertmanager.yml');
    await writeFile(file, config);
    expect(config).toContain(TEMPLATE);
    const out = execFileSync('amtool', ['check-config', file], { encoding: 'utf8' });
    expect(out).toMatch(/1 templates\s+SUCCESS/);
  });

  it("renders logsift's own spike alert with root cause, workarounds and the lookup link", async () => {
    const labels = { alertname: 'LogsiftSignatureSpike', signature_id: 'postgresql/too-many-clients', severity: 'warning' };
    const out = await render(
      group(
        {
          summary: 'Error postgresql/too-many-clients is spiking: 1.2/s',
          signature_id: 'postgresql/too-many-clients',
          root_cause: 'All max_connections slots are used.',
          workaround_ids: 'postgresql/too-many-clients#w1,postgresql/too-many-clients#w2',
          signature_url: 'http://logsift:9464/v1/signatures/postgresql/too-many-clients',
        },
        labels,
      ),
      '{{ template "logsift.slack.title" . }}\n{{ template "logsift.slack.text" . }}',
    );
    expect(out).toContain('[FIRING:1] LogsiftSignatureSpike · postgresql/too-many-clients');
    expect(out).toContain('*Root cause:* All max_connections slots are used.');
    expect(out).toContain('*Workarounds:* postgresql/too-many-clients#w1, postgresql/too-many-clients#w2');
    expect(out).toContain('<http://logsift:9464/v1/signatures/postgresql/too-many-clients|');
  });

  it('renders an alert enriched by the relay (logsift_* annotations), and one it could not explain', async () => {
    const enriched = await render(
      group({ summary: 'Pod is crash looping', logsift_signature_id: 'kubernetes/crashloopbackoff', logsift_root_cause: 'The container exits.', logsift_workaround_ids: 'kubernetes/crashloopbackoff#w1', logsift_strength: '1' }, { alertname: 'KubePodCrashLooping' }),
      '{{ template "logsift.slack.text" . }}',
    );
    expect(enriched).toContain('`kubernetes/crashloopbackoff` (match strength 1)');
    expect(enriched).toContain('*Root cause:* The container exits.');
    const plain = await render(group({ summary: 'Latency high', description: 'p99 over 2s' }, { alertname: 'HighLatency' }), '{{ template "logsift.slack.text" . }}');
    expect(plain).toContain('p99 over 2s');
    expect(plain).not.toContain('Root cause');
  });
});
