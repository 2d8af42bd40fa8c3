/**
 * What real shippers put on Kafka, through the daemon's per-message path (processMessages): Fluent
 * Bit (kubernetes filter), Vector (kubernetes_logs, file), Filebeat (with @metadata), rsyslog and
 * syslog-ng JSON templates and syslog text, and OTLP from the OpenTelemetry JS SDK's serializers.
 * Fixtures follow each shipper's documented Kafka output shape (test/fixtures/shippers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import Ajv2020 from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher, type LogsiftEvent } from '../../../src/enrich/index.js';
import { loadKnowledgeBase } from '../../../src/kb/index.js';
import { processMessages, type InputMessage, type ProcessOptions } from '../../../src/kafka/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { sdkOtlpLogs } from '../../helpers/otlp.js';
import { REPO_ROOT, STARTER_KB, TEST_CACHE_DIR } from '../../helpers/shared.js';
import { starterLines } from '../../helpers/shipper-lines.js';

let enricher: Enricher;
const options: ProcessOptions = { outputTopic: 'out', unmatchedTopic: 'un', dlqTopic: 'dlq', key: 'input', format: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxMessageBytes: 1 << 20 };
const now = new Date('2026-11-23T00:00:00Z');
const lines = starterLines();
const validate = new Ajv2020.default({ strict: false }).compile(JSON.parse(readFileSync(join(REPO_ROOT, 'schema', 'event-v1.schema.json'), 'utf8')) as object);

beforeAll(async () => {
  const { kb } = await loadKnowledgeBase([STARTER_KB]);
  // The enricher's format decides text extraction; ProcessOptions.format only decides OTLP.
  enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
});

function msg(offset: number, value: Buffer | string, headers: InputMessage['headers'] = {}): InputMessage {
  return { topic: 'in', partition: 0, offset: String(offset), timestamp: '1763892000000', key: null, value: Buffer.from(value), headers };
}

/** The primary each line gets when scanned bare: what every shipper's wrapping must preserve. */
function bare(text: string): string | null {
  return enricher.enrichBatch([text], [{}])[0]!.signatureId;
}

function fixture(name: string, line: string): string {
  const template = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'shippers', name), 'utf8')) as Record<string, unknown>;
  const field = 'log' in template && typeof template['log'] === 'string' ? 'log' : 'message';
  // Fluent Bit's tail input keeps the line's newline in `log`.
  return JSON.stringify({ ...template, [field]: field === 'log' ? `${line}\n` : line });
}

function run(values: readonly (string | Buffer)[], o: Partial<ProcessOptions> = {}, headers: InputMessage['headers'] = {}) {
  const r = processMessages(values.map((v, i) => msg(i, v, headers)), enricher, { ...options, ...o }, now);
  const events = r.enriched.map((e) => e.result.event);
  // Every event, with its resource, severity and trace fields, is valid event v1.
  for (const e of events) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
  return { ...r, events };
}

function expectOnePerLine(events: readonly LogsiftEvent[]): void {
  expect(events.length).toBe(lines.length);
  events.forEach((e, i) => {
    expect(e.signature_id, lines[i]!.text).toBe(bare(lines[i]!.text));
    if (lines[i]!.record !== null) expect(e.matches).toContain(lines[i]!.record);
    else expect(e.signature_id).toBeNull();
  });
}

describe('shipper output shapes through the per-message path', () => {
  it('has starter lines for every domain and benign lines', () => {
    expect(lines.filter((l) => l.record !== null).length).toBeGreaterThanOrEqual(30);
  });

  const k8s = { 'service.name': 'checkout', 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'checkout-7d9f8b6c5-x2k4q', 'k8s.container.name': 'app' };
  it.each([
    ['fluent-bit-kubernetes.json', { ...k8s, 'host.name': 'node-3' }],
    ['vector-kubernetes-logs.json', { ...k8s, 'host.name': 'node-3' }],
    ['vector-file.json', { 'host.name': 'web-1' }],
    // ECS host.name (the Filebeat pod) outranks kubernetes.node.name.
    ['filebeat-kubernetes.json', { ...k8s, 'host.name': 'filebeat-8xk2p' }],
  ])('%s: scanned on its message field, with the resource', (name, resource) => {
    const r = run(lines.map((l) => fixture(name, l.text)));
    expect(r.poison).toEqual([]);
    expectOnePerLine(r.events);
    for (const e of r.events) expect(e.resource).toEqual(resource);
  });

  it('rsyslog and syslog-ng JSON templates, and RFC 5424 / 3164 text', () => {
    const shapes: [string, (t: string) => string, Record<string, string>][] = [
      ['rsyslog jsonf', (t) => JSON.stringify({ '@timestamp': '2026-11-23T10:00:00.000000+00:00', host: 'web-1', severity: 'err', facility: 'user', 'syslog-tag': 'api[42]:', programname: 'api', message: t }), { 'service.name': 'api', 'host.name': 'web-1' }],
      ['syslog-ng format-json', (t) => JSON.stringify({ PROGRAM: 'api', PRIORITY: 'err', PID: '42', MESSAGE: t, ISODATE: '2026-11-23T10:00:00+00:00', HOST: 'web-1', FACILITY: 'user' }), { 'service.name': 'api', 'host.name': 'web-1' }],
      ['RFC 5424', (t) => `<11>1 2026-11-23T10:00:00.000000+00:00 web-1 api 42 - [meta@1 k="v"] ${t}`, { 'service.name': 'api', 'host.name': 'web-1' }],
      ['RFC 3164', (t) => `<11>Nov 23 10:00:00 web-1 api[42]: ${t}`, { 'service.name': 'api', 'host.name': 'web-1' }],
    ];
    for (const [name, wrap, resource] of shapes) {
      const r = run(lines.map((l) => wrap(l.text)));
      expect(r.poison, name).toEqual([]);
      expectOnePerLine(r.events);
      for (const e of r.events) expect(e.resource, name).toEqual(resource);
    }
  });
});

describe('OTLP through the per-message path', () => {
  it.each(['json', 'proto'] as const)('otlp_%s: one event per record, record index in the source, malformed messages dead-lettered whole', async (encoding) => {
    const good = await sdkOtlpLogs({ 'service.name': 'checkout', 'k8s.namespace.name': 'shop' }, lines.map((l) => ({ body: l.text, severityText: 'ERROR' })), encoding);
    const bad = encoding === 'json' ? Buffer.from('{"resourceLogs":[{"scopeLogs":{}}]}') : Buffer.from([0x0a, 0x7f, 0x01]);
    const r = run([good, bad, good], { format: `otlp_${encoding}` });
    expect(r.poison.map((p) => [p.message.offset, p.reason])).toEqual([['1', 'LOGSIFT_OTLP_INVALID']]);
    expect(r.events.length).toBe(2 * lines.length);
    expectOnePerLine(r.events.slice(0, lines.length));
    expectOnePerLine(r.events.slice(lines.length));
    r.events.forEach((e, i) => {
      expect(e.source).toMatchObject({ offset: i < lines.length ? '0' : '2', record: i % lines.length });
      expect(e).toMatchObject({ resource: { 'service.name': 'checkout', 'k8s.namespace.name': 'shop' }, severity_text: 'ERROR' });
    });
    // The DLQ record is the whole input message, untouched.
    const dlq = r.records.filter((x) => x.topic === 'dlq');
    expect(dlq.length).toBe(1);
    expect(Buffer.compare(dlq[0]!.value as Buffer, bad)).toBe(0);
    expect(dlq[0]!.headers['logsift.dlq.reason']).toBe('LOGSIFT_OTLP_INVALID');
    // Produced JSON equals the event object (the encoder's fast path).
    expect(r.enriched.every((e) => e.result.json() === JSON.stringify(e.result.event))).toBe(true);
  });

  it('a record the scan fails on dead-letters its whole message; the other messages go on', async () => {
    class FailsOnBoom extends Enricher {
      override process(...args: Parameters<Enricher['process']>): ReturnType<Enricher['process']> {
        const [inputs] = args;
        return super.process(...args).map((o, k) => (inputs[k]!.extracted?.text.includes('BOOM') ? { kind: 'poison', code: 'LOGSIFT_SCAN_FAILED', detail: 'scan failed on BOOM', bytes: 0 } : o));
      }
    }
    const failing = new FailsOnBoom(enricher.kb, enricher.matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const mixed = await sdkOtlpLogs({ 'service.name': 'a' }, [{ body: lines[0]!.text }, { body: 'BOOM' }, { body: lines[1]!.text }], 'proto');
    const clean = await sdkOtlpLogs({ 'service.name': 'b' }, [{ body: lines[0]!.text }], 'proto');
    const r = processMessages([msg(0, clean), msg(1, mixed), msg(2, clean)], failing, { ...options, format: 'otlp_proto' }, now);
    expect(r.poison.map((p) => [p.message.offset, p.reason, p.detail])).toEqual([['1', 'LOGSIFT_SCAN_FAILED', 'scan failed on BOOM']]);
    expect(r.enriched.map((e) => e.message.offset)).toEqual(['0', '2']);
    expect(r.records.filter((x) => x.topic === 'dlq').length).toBe(1);
  });

  it('auto format: detected from the content-type header (protobuf) or the resourceLogs shape (JSON)', async () => {
    const proto = await sdkOtlpLogs({ 'service.name': 'a' }, [{ body: lines[0]!.text }], 'proto');
    const json = await sdkOtlpLogs({ 'service.name': 'b' }, [{ body: lines[0]!.text }], 'json');
    expect(run([proto], {}, { 'content-type': Buffer.from('application/x-protobuf') }).events.map((e) => e.resource)).toEqual([{ 'service.name': 'a' }]);
    expect(run([json]).events.map((e) => e.resource)).toEqual([{ 'service.name': 'b' }]);
    // Without the header, binary protobuf is not guessed: it is not UTF-8 text, so it is dead-lettered.
    expect(run([Buffer.concat([proto, Buffer.from([0xff])])]).poison.map((p) => p.reason)).toEqual(['LOGSIFT_INVALID_UTF8']);
  });
});
