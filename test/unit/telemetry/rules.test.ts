import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../helpers/shared.js';

const FILES = join(REPO_ROOT, 'helm', 'logsift', 'files');

describe('shipped alerting rules and dashboard', () => {
  it('pass promtool check rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', join(FILES, 'logsift-rules.yml')], { encoding: 'utf8' });
    expect(r.stdout).toContain('SUCCESS: 6 rules found');
    expect(r.status).toBe(0);
  });

  it('the spike alert carries the signature id, service, root cause and workaround ids', () => {
    const rules = readFileSync(join(FILES, 'logsift-rules.yml'), 'utf8');
    for (const a of ["signature_id: '{{ $labels.signature_id }}'", "service: '{{ $labels.service_name }}'", "root_cause: '{{ $labels.root_cause }}'", "workaround_ids: '{{ $labels.workaround_ids }}'", 'in service {{ . }}']) expect(rules).toContain(a);
    expect(rules.match(/sum by \(signature_id, domain, category, service_name\)/g)).toHaveLength(4);
  });

  it('the dashboard has the panels SREs look for, each with a description', () => {
    const d = JSON.parse(readFileSync(join(FILES, 'logsift-dashboard.json'), 'utf8')) as { panels: { title: string; description: string; targets: { expr: string }[] }[] };
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const m of ['logsift_signature_matches_total', 'logsift_signature_info', 'logsift_messages_total', 'logsift_consumer_lag_messages', 'logsift_dead_letter_messages_total', 'logsift_knowledge_base_reloads_total', 'logsift_scan_duration_seconds_sum', 'logsift_enrichment_threads']) expect(exprs).toContain(m);
    for (const p of d.panels) expect(p.description.length, p.title).toBeGreaterThan(20);
  });

  it('the dashboard has a service variable and top signatures by service', () => {
    const d = JSON.parse(readFileSync(join(FILES, 'logsift-dashboard.json'), 'utf8')) as { templating: { list: { name: string; query: string }[] }; panels: { title: string; targets: { expr: string }[] }[] };
    expect(d.templating.list.find((v) => v.name === 'service')?.query).toContain('service_name');
    const panel = d.panels.find((p) => p.title === 'Top signatures by service')!;
    expect(panel.targets[0]!.expr).toMatch(/sum by \(service_name, signature_id\).*service_name=~"\$service"/);
  });
});
