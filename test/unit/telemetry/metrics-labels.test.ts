import { describe, expect, it } from 'vitest';

import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { kbOf, record } from '../../helpers/kb.js';

const kb = kbOf(record('db/too-many', 'too many clients'), record('net/refused', 'connection refused'));
/** The records the metrics count, as the daemon passes them: record objects, not indexes. */
const sig = (i: number) => kb.records[i]!;
const info = { patterns: { native: 2, prefilter: 0, fallback: 0, rejected: 0 }, databaseBytes: 1, fromCache: false, buildSeconds: 0.1, hyperscanVersion: 'x' };

describe('resource labels on logsift_signature_matches_total', () => {
  it('are absent by default', async () => {
    const m = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
    m.setKnowledgeBase(kb, info);
    m.countMatches([sig(0)], undefined, [{ 'service.name': 'api' }]);
    const body = (await m.expose(false)).body;
    expect(body).toContain('logsift_signature_matches_total{signature_id="db/too-many",domain="test",category="test_error"} 1');
    expect(body).not.toContain('service_name');
  });

  it('adds the allowlisted fields, caps distinct values per label at the limit (then "other"), counted and reported once', async () => {
    const overflows: [string, number][] = [];
    const m = new LogsiftMetrics({ signatureLabel: true, processMetrics: false, resourceLabels: ['service.name', 'k8s.namespace.name'], labelValueLimit: 2, onLabelOverflow: (l, n) => overflows.push([l, n]) });
    m.setKnowledgeBase(kb, info);
    m.countMatches([sig(0), sig(0), sig(1), sig(0)], undefined, [
      { 'service.name': 'api', 'k8s.namespace.name': 'prod' },
      { 'service.name': 'api', 'k8s.namespace.name': 'prod' },
      { 'service.name': 'web' },
      undefined,
    ]);
    m.countMatches([sig(0), sig(0), sig(1)], undefined, [{ 'service.name': 'worker', 'k8s.namespace.name': 'prod' }, { 'service.name': 'batch' }, { 'service.name': 'api' }]);
    const body = (await m.expose(false)).body;
    expect(body).toContain('logsift_signature_matches_total{signature_id="db/too-many",domain="test",category="test_error",service_name="api",k8s_namespace_name="prod"} 2');
    expect(body).toContain('logsift_signature_matches_total{signature_id="net/refused",domain="test",category="test_error",service_name="web",k8s_namespace_name=""} 1');
    // No resource: empty values (Prometheus treats them as absent), never counted against the cap.
    expect(body).toContain('logsift_signature_matches_total{signature_id="db/too-many",domain="test",category="test_error",service_name="",k8s_namespace_name=""} 1');
    // api and web took the two slots: worker and batch are "other"; api still has its own series.
    expect(body).toContain('logsift_signature_matches_total{signature_id="db/too-many",domain="test",category="test_error",service_name="other",k8s_namespace_name="prod"} 1');
    expect(body).toContain('logsift_signature_matches_total{signature_id="db/too-many",domain="test",category="test_error",service_name="other",k8s_namespace_name=""} 1');
    expect(body).toContain('logsift_signature_matches_total{signature_id="net/refused",domain="test",category="test_error",service_name="api",k8s_namespace_name=""} 1');
    expect(body).toContain('logsift_metric_label_overflow_total{label="service_name"} 2');
    expect(body).toContain('logsift_metric_label_overflow_total{label="k8s_namespace_name"} 0');
    expect(overflows).toEqual([['service_name', 2]]);
  });

  it('retires the labelled series of removed signatures on reload', async () => {
    const m = new LogsiftMetrics({ signatureLabel: true, processMetrics: false, resourceLabels: ['service.name'] });
    m.setKnowledgeBase(kb, info);
    m.countMatches([sig(1)], undefined, [{ 'service.name': 'api' }]);
    m.setKnowledgeBase(kbOf(record('db/too-many', 'too many clients')), info);
    expect((await m.expose(false)).body).not.toContain('signature_id="net/refused"');
  });

  it('counts a record that a reload moved to another domain and category under its new labels', async () => {
    for (const signatureLabel of [true, false]) {
      const m = new LogsiftMetrics({ signatureLabel, processMetrics: false });
      m.setKnowledgeBase(kb, info);
      m.countMatches([sig(0), sig(0)]);
      const moved = kbOf(record('db/too-many', 'too many clients', { domain: 'database', category: 'resource_exhaustion' }), record('net/refused', 'connection refused'));
      m.setKnowledgeBase(moved, info);
      m.countMatches([moved.records[0]!]);
      const body = (await m.expose(false)).body;
      const id = signatureLabel ? 'signature_id="db/too-many",' : '';
      expect(body).toContain(`logsift_signature_matches_total{${id}domain="test",category="test_error"} 2`);
      expect(body).toContain(`logsift_signature_matches_total{${id}domain="database",category="resource_exhaustion"} 1`);
    }
  });
});
