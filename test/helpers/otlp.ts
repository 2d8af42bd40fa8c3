/**
 * OTLP log messages as the OpenTelemetry JS SDK serializes them for its own exporters: real
 * LoggerProvider records, encoded by @opentelemetry/otlp-transformer's serializers.
 */
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import type { AnyValue, AnyValueMap, Logger, SeverityNumber } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';

export interface SdkLog {
  body: AnyValue;
  severityText?: string;
  severityNumber?: SeverityNumber;
  attributes?: AnyValueMap;
  /** Emitted inside this span context. */
  trace?: { traceId: string; spanId: string };
}

/** Emits `logs` through a real LoggerProvider with this resource; returns the encoded request. */
export async function sdkOtlpLogs(resource: Record<string, string>, logs: readonly SdkLog[], encoding: 'json' | 'proto', scope = 'test-scope'): Promise<Buffer> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger: Logger = provider.getLogger(scope, '1.2.3');
  for (const l of logs) {
    const context = l.trace ? trace.setSpanContext(ROOT_CONTEXT, { traceId: l.trace.traceId, spanId: l.trace.spanId, traceFlags: TraceFlags.SAMPLED }) : ROOT_CONTEXT;
    logger.emit({
      body: l.body,
      ...(l.severityText !== undefined ? { severityText: l.severityText } : {}),
      ...(l.severityNumber !== undefined ? { severityNumber: l.severityNumber } : {}),
      ...(l.attributes ? { attributes: l.attributes } : {}),
      context,
    });
  }
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  const bytes = (encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest([...records]);
  await provider.shutdown();
  if (!bytes) throw new Error('serializer returned nothing');
  return Buffer.from(bytes);
}
