/**
 * W3C trace context across Kafka: a span per batch and per produced event, the event span a child of
 * the input message's traceparent, and its own context injected into the output message.
 */
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../src/enrich/index.js';
import { Daemon, InlineProcessor, createKafka } from '../../src/kafka/index.js';
import { loadKnowledgeBase } from '../../src/kb/index.js';
import { Matcher } from '../../src/matcher/index.js';
import { createLogger } from '../../src/telemetry/index.js';
import { startCluster } from '../helpers/broker.js';
import { produce, readAll } from '../helpers/kafka.js';
import { STARTER_KB, TEST_CACHE_DIR } from '../helpers/shared.js';
import { randomName, waitFor } from '../helpers/wait.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const cleanup: (() => Promise<void>)[] = [];

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  trace.disable();
  propagation.disable();
});

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

describe('tracing', () => {
  it('links input and output messages through spans', async () => {
    const cluster = await startCluster();
    cleanup.push(() => cluster.stop());
    const [input, output, group] = ['in', 'out', 'group'].map(randomName);
    await cluster.createTopic(input!, 1);
    await cluster.createTopic(output!, 1);
    await cluster.createTopic(`${output}.dlq`, 1);
    await produce(cluster.brokers, input!, [
      { key: 'traced', value: 'FATAL:  sorry, too many clients already', headers: { traceparent: `00-${TRACE}-${PARENT}-01` } },
      { key: 'untraced', value: 'fatal error: concurrent map writes' },
    ]);
    const config = loadConfig({
      env: {},
      overrides: [
        { path: ['kafka', 'brokers'], value: cluster.brokers, flag: '--brokers' },
        { path: ['input', 'topics'], value: [input], flag: '--input' },
        { path: ['input', 'groupId'], value: group, flag: '--group' },
        { path: ['output', 'topic'], value: output, flag: '--output' },
      ],
    });
    const { kb } = await loadKnowledgeBase([STARTER_KB]);
    const enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const logger = createLogger('warn');
    const daemon = new Daemon({ kafka: createKafka(config.kafka, logger), config, logger, processor: () => new InlineProcessor(enricher), tracer: provider.getTracer('logsift') });
    cleanup.push(() => daemon.stop());
    await daemon.start();

    const events = await waitFor(async () => {
      const r = await readAll(cluster.brokers, output!);
      return r.length >= 2 ? r : null;
    }, 'two events');
    const traced = events.find((e) => e.key === 'traced')!;
    const untraced = events.find((e) => e.key === 'untraced')!;
    const spans = exporter.getFinishedSpans();
    const batch = spans.find((s) => s.name === 'logsift.batch')!;
    expect(batch.attributes['logsift.kb_version']).toBe(kb.version);

    // The traced input: the event span continues the producer's trace, under its span.
    const [, tTrace, tSpan] = traced.headers['traceparent']!.split('-');
    expect(tTrace).toBe(TRACE);
    const tracedSpan = spans.find((s) => s.spanContext().spanId === tSpan)!;
    expect(tracedSpan.name).toBe('logsift.event');
    expect(tracedSpan.spanContext().traceId).toBe(TRACE);
    expect(tracedSpan.parentSpanContext?.spanId).toBe(PARENT);
    expect(tracedSpan.attributes).toMatchObject({ 'logsift.signature_id': 'postgresql/too-many-clients', 'logsift.kb_version': kb.version, 'messaging.kafka.partition': 0, 'messaging.kafka.offset': '0' });
    expect(tracedSpan.links.map((l) => l.context.spanId)).toEqual([batch.spanContext().spanId]);

    // The untraced input: the event span is a child of the batch span.
    const [, uTrace, uSpan] = untraced.headers['traceparent']!.split('-');
    const untracedSpan = spans.find((s) => s.spanContext().spanId === uSpan)!;
    expect(uTrace).toBe(batch.spanContext().traceId);
    expect(untracedSpan.parentSpanContext?.spanId).toBe(batch.spanContext().spanId);
    expect(untracedSpan.attributes['logsift.signature_id']).toBe('go/concurrent-map-writes');
  });
});
