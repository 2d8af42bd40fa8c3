/**
 * OTLP logs through the real Kafka protocol, as the Collector's kafka exporter sends them: each
 * message an ExportLogsServiceRequest built by the OpenTelemetry JS SDK's serializers, one event per
 * log record, a malformed message dead-lettered whole, and each event span linked to its record's
 * trace context.
 */
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher, type LogsiftEvent } from '../../src/enrich/index.js';
import { Daemon, InlineProcessor, createKafka } from '../../src/kafka/index.js';
import { loadKnowledgeBase, type KnowledgeBase } from '../../src/kb/index.js';
import { Matcher } from '../../src/matcher/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { MockCluster } from '../helpers/broker.js';
import { produce, readAll } from '../helpers/kafka.js';
import { sdkOtlpLogs } from '../helpers/otlp.js';
import { STARTER_KB, TEST_CACHE_DIR } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const cleanup: (() => Promise<void>)[] = [];
let cluster: MockCluster;
let kb: KnowledgeBase;
let enricher: Enricher;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  ({ kb } = await loadKnowledgeBase([STARTER_KB]));
  enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  trace.disable();
  propagation.disable();
});

const RECORD_TRACE = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

describe.each(['json', 'proto'] as const)('input.format otlp_%s', (encoding) => {
  it('one event per log record; malformed messages go to the DLQ whole; commits per message', async () => {
    const [input, output, unmatched, group] = ['otlp-in', 'otlp-out', 'otlp-un', 'group'].map(randomName);
    for (const t of [input!, output!, unmatched!, `${output}.dlq`]) await cluster.createTopic(t, 1);
    const resource = { 'service.name': 'checkout', 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'checkout-1' };
    const first = await sdkOtlpLogs(resource, [
      { body: 'FATAL: sorry, too many clients already', severityText: 'ERROR', trace: RECORD_TRACE },
      { body: 'order 42 shipped', severityText: 'INFO' },
    ], encoding);
    const second = await sdkOtlpLogs(resource, [{ body: 'checkout failed', severityText: 'ERROR', attributes: { 'exception.message': 'fatal error: concurrent map writes' } }], encoding);
    const malformed = encoding === 'json' ? Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"zz"}]}]}]}') : Buffer.from([0x0a, 0x05, 0x12]);
    await produce(cluster.brokers, input!, [{ key: 'a', value: first }, { key: 'bad', value: malformed }, { key: 'b', value: second }]);

    const config = loadConfig({
      env: { LOGSIFT_INPUT_FORMAT: `otlp_${encoding}` },
      overrides: [
        { path: ['kafka', 'brokers'], value: cluster.brokers, flag: '--brokers' },
        { path: ['input', 'topics'], value: [input], flag: '--input' },
        { path: ['input', 'groupId'], value: group, flag: '--group' },
        { path: ['output', 'topic'], value: output, flag: '--output' },
        { path: ['output', 'unmatchedTopic'], value: unmatched, flag: '--unmatched' },
      ],
    });
    const logger = createLogger('silent');
    const kafka = createKafka(config.kafka, logger);
    const daemon = new Daemon({ kafka, config, logger, processor: () => new InlineProcessor(enricher), tracer: provider.getTracer('logsift') });
    cleanup.push(() => daemon.stop());
    await daemon.start();

    const events = await waitFor(async () => {
      const r = [...(await readAll(cluster.brokers, output!)), ...(await readAll(cluster.brokers, unmatched!))];
      return r.length >= 3 ? r : null;
    }, 'three events');
    const dlq = await waitFor(async () => {
      const r = await readAll(cluster.brokers, `${output}.dlq`);
      return r.length >= 1 ? r : null;
    }, 'the DLQ record');
    const parsed = events.map((e) => JSON.parse(e.value!) as LogsiftEvent & { source: { offset: string; record: number } });
    parsed.sort((a, b) => Number(a.source.offset) - Number(b.source.offset) || a.source.record - b.source.record);
    expect(parsed.map((e) => [e.source.offset, e.source.record, e.signature_id, e.severity_text])).toEqual([
      ['0', 0, 'postgresql/too-many-clients', 'ERROR'],
      ['0', 1, null, 'INFO'],
      ['2', 0, 'go/concurrent-map-writes', 'ERROR'],
    ]);
    for (const e of parsed) expect(e.resource).toEqual(resource);
    expect(parsed[0]).toMatchObject({ trace_id: RECORD_TRACE.traceId, span_id: RECORD_TRACE.spanId });
    expect(dlq.map((d) => [d.key, d.headers['logsift.dlq.reason']])).toEqual([['bad', 'LOGSIFT_OTLP_INVALID']]);
    // kcat's JSON output carries text payloads exactly; the binary one is checked byte for byte in the unit tests.
    if (encoding === 'json') expect(dlq[0]!.value).toBe(malformed.toString('utf8'));

    // The event span of the traced record links to the record's own trace context.
    const tracedEvent = events.find((e) => (JSON.parse(e.value!) as LogsiftEvent).trace_id === RECORD_TRACE.traceId)!;
    const spanId = tracedEvent.headers['traceparent']!.split('-')[2];
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanId)!;
    expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toContainEqual([RECORD_TRACE.traceId, RECORD_TRACE.spanId]);

    // Every message committed, the malformed one included (it is in the DLQ).
    const admin = kafka.admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    await waitFor(async () => (await admin.fetchOffsets({ groupId: group!, topics: [input!] }))[0]!.partitions[0]!.offset === '3', 'offset 3 committed');
  });
});
