import { SeverityNumber } from '@opentelemetry/api-logs';
import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, OtlpDecodeError, decodeOtlpLogs, otlpEncoding, type OtlpLogView } from '../../../src/enrich/index.js';
import { sdkOtlpLogs } from '../../helpers/otlp.js';

const TRACE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const RESOURCE = { 'service.name': 'checkout', 'service.namespace': 'shop', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'checkout-7d9f-x2', 'k8s.container.name': 'app', 'host.name': 'node-3', 'deployment.environment.name': 'production', 'cloud.region': 'eu-west-1' };

describe.each(['json', 'proto'] as const)('OTLP %s built by the OpenTelemetry JS SDK serializers', (encoding) => {
  it('gives one item per log record: body, exception attributes, severity, trace context, resource', async () => {
    const value = await sdkOtlpLogs(RESOURCE, [
      { body: 'FATAL: sorry, too many clients already', severityText: 'ERROR', severityNumber: SeverityNumber.ERROR, trace: TRACE },
      { body: 'request failed', severityText: 'ERROR', attributes: { 'exception.message': 'connect ECONNREFUSED 10.0.0.1:5432', 'exception.stacktrace': 'Error: connect ECONNREFUSED\n    at TCPConnectWrap', 'http.status': 500 } },
      { body: { msg: 'panic: runtime error: index out of range [5] with length 3', level: 'error', n: 3 } },
      { body: { nested: { deep: [1, true, 'x'] } } },
    ], encoding);
    expect(otlpEncoding(`otlp_${encoding}`, undefined, value)).toBe(encoding);
    const items = decodeOtlpLogs(value, encoding, DEFAULT_MESSAGE_FIELDS);
    expect(items.map((i) => i.text)).toEqual([
      'FATAL: sorry, too many clients already',
      'request failed\nconnect ECONNREFUSED 10.0.0.1:5432\nError: connect ECONNREFUSED\n    at TCPConnectWrap',
      'panic: runtime error: index out of range [5] with length 3',
      '{"nested":{"deep":[1,true,"x"]}}',
    ]);
    const resource = { 'service.name': 'checkout', 'service.namespace': 'shop', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'checkout-7d9f-x2', 'k8s.container.name': 'app', 'host.name': 'node-3', 'deployment.environment': 'production' };
    expect(items[0]!.context).toEqual({ resource, severity_text: 'ERROR', trace_id: TRACE.traceId, span_id: TRACE.spanId });
    expect(items[1]!.context).toEqual({ resource, severity_text: 'ERROR' });
    expect(items[2]!.context).toEqual({ resource });
    const log = items[0]!.log as OtlpLogView;
    expect(log).toMatchObject({ body: 'FATAL: sorry, too many clients already', severity_text: 'ERROR', severity_number: SeverityNumber.ERROR, trace_id: TRACE.traceId, span_id: TRACE.spanId, scope: { name: 'test-scope', version: '1.2.3' } });
    expect(log.resource.attributes['cloud.region']).toBe('eu-west-1');
    expect(log.time_unix_nano).toMatch(/^\d{16,}$/);
    expect((items[1]!.log as OtlpLogView).attributes['http.status']).toBe(500);
    expect((items[2]!.log as OtlpLogView).body).toEqual({ msg: 'panic: runtime error: index out of range [5] with length 3', level: 'error', n: 3 });
  });

  it('an empty request has no records', async () => {
    const value = await sdkOtlpLogs({}, [], encoding);
    expect(decodeOtlpLogs(value, encoding, DEFAULT_MESSAGE_FIELDS)).toEqual([]);
  });
});

describe('malformed OTLP', () => {
  const bad = (v: string | Buffer, e: 'json' | 'proto') => () => decodeOtlpLogs(typeof v === 'string' ? Buffer.from(v) : v, e, DEFAULT_MESSAGE_FIELDS);
  it('names what is wrong, with a stable error type', () => {
    expect(bad('{"resourceLogs":', 'json')).toThrow(OtlpDecodeError);
    expect(bad('{"resourceLogs":{}}', 'json')).toThrow('$.resourceLogs: not an array');
    expect(bad('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}', 'json')).toThrow('resourceLogs[0].scopeLogs[0].logRecords[0].traceId: not a 16-byte id');
    expect(bad('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"1.5"}}]}]}]}', 'json')).toThrow('body.intValue: not an integer');
    expect(bad('[]', 'json')).toThrow('$: not an object');
    const record = (r: string) => bad(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[${r}]}]}]}`, 'json');
    expect(record('{"body":{"stringValue":3}}')).toThrow('body.stringValue: not a string');
    expect(record('{"body":{"doubleValue":"x"}}')).toThrow('body.doubleValue: not a number');
    expect(record('{"attributes":[{"key":1,"value":{}}]}')).toThrow('attributes[0].key: not a string');
    expect(record('{"spanId":7}')).toThrow('spanId: not a string');
    expect(record('{"timeUnixNano":true}')).toThrow('timeUnixNano: not an integer');
    // Truncated protobuf: a length-delimited field that runs past the end.
    expect(bad(Buffer.from([0x0a, 0x10, 0x0a]), 'proto')).toThrow(/not an OTLP protobuf ExportLogsServiceRequest/);
    let deep = '{"stringValue":"x"}';
    for (let i = 0; i < 80; i++) deep = `{"arrayValue":{"values":[${deep}]}}`;
    expect(bad(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${deep}}]}]}]}`, 'json')).toThrow('nested deeper than 64');
  });

  it('keeps int64 beyond 2^53 exact, and all-zero ids mean none', () => {
    const [item] = decodeOtlpLogs(Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"00000000000000000000000000000000","body":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":"9007199254740993"}},{"key":"d","value":{"doubleValue":1.5}},{"key":"b","value":{"bytesValue":"AAE="}}]}}}]}]}]}'), 'json', ['message']);
    expect(item!.log).toMatchObject({ body: { n: '9007199254740993', d: 1.5, b: 'AAE=' } });
    expect(item!.context).toEqual({ resource: {} });
    const [nan] = decodeOtlpLogs(Buffer.from('{"resourceLogs":[{"resource":null,"scopeLogs":[{"scope":{"name":""},"logRecords":[{"body":{"arrayValue":{"values":[{"doubleValue":"NaN"},{},{"kvlistValue":{}}]}},"eventName":"e","severityNumber":0,"timeUnixNano":0}]}]}]}'), 'json', ['message']);
    expect(nan!.log).toEqual({ body: ['NaN', null, {}], attributes: {}, resource: { attributes: {} }, event_name: 'e' });
    expect(nan!.text).toBe('["NaN",null,{}]');
  });
});

describe('otlpEncoding', () => {
  it('configured formats win; auto reads the content-type header or the resourceLogs shape', () => {
    const json = Buffer.from(' {"resourceLogs":[]}');
    expect(otlpEncoding('auto', 'application/x-protobuf', Buffer.from([0x0a]))).toBe('proto');
    expect(otlpEncoding('auto', 'application/protobuf; charset=binary', Buffer.from([0x0a]))).toBe('proto');
    expect(otlpEncoding('auto', undefined, json)).toBe('json');
    expect(otlpEncoding('auto', 'application/json', Buffer.from('{"message":"x","resourceLogs":[]}'))).toBeNull();
    expect(otlpEncoding('json', undefined, json)).toBeNull();
    expect(otlpEncoding('raw', 'application/x-protobuf', json)).toBeNull();
    expect(otlpEncoding('otlp_proto', undefined, json)).toBe('proto');
  });

  it('decides a head by its first non-blank byte exactly as the resourceLogs RegExp does on the head', () => {
    // The pre-check skips what the RegExp's \s skips in a latin1 head; every single byte and blank run agrees.
    const reference = (v: Buffer): 'json' | null => (/^\s*\{\s*"resourceLogs"\s*:/.test(v.subarray(0, 64).toString('latin1')) ? 'json' : null);
    const tail = Buffer.from('{"resourceLogs":[]}');
    const heads: Buffer[] = [Buffer.alloc(0), Buffer.from('{'), Buffer.alloc(64, 0x20), Buffer.concat([Buffer.alloc(64, 0x20), tail]), Buffer.concat([Buffer.alloc(40, 0x0a), tail])];
    for (let b = 0; b < 256; b++) {
      heads.push(Buffer.concat([Buffer.from([b]), tail]), Buffer.concat([Buffer.from([b, b]), tail]), Buffer.from([b]));
    }
    let json = 0;
    for (const v of heads) {
      expect(otlpEncoding('auto', undefined, v)).toBe(reference(v));
      if (reference(v) === 'json') json++;
    }
    // Tab, LF, VT, FF, CR, space and no-break space, one and two of each, and the 40 line feeds.
    expect(json).toBe(7 * 2 + 1);
  });
});
