import { describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { HEADER, decode, kafkaSource, processMessages, type InputMessage, type ProcessOptions } from '../../../src/kafka/index.js';
import { ErrorCodes, LogsiftError } from '../../../src/errors.js';
import { Matcher } from '../../../src/matcher/index.js';
import { kbOf, record } from '../../helpers/kb.js';

const kb = kbOf(record('db/too-many', 'too many clients'), record('net/refused', 'connection refused'));
const options: ProcessOptions = { outputTopic: 'out', unmatchedTopic: 'un', dlqTopic: 'dlq', key: 'input', format: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxMessageBytes: 64 };
const now = new Date('2026-11-23T00:00:00Z');

function msg(offset: number, value: Buffer | string | null, extra: Partial<InputMessage> = {}): InputMessage {
  return { topic: 'in', partition: 2, offset: String(offset), timestamp: '1700000000000', key: Buffer.from(`k${offset}`), value: typeof value === 'string' ? Buffer.from(value) : value, headers: {}, ...extra };
}

describe('decode', () => {
  it('names why a message is poison', () => {
    expect(decode(msg(0, 'ok'), 64)).toEqual({ text: 'ok' });
    expect(decode(msg(0, null), 64)).toMatchObject({ reason: 'LOGSIFT_EMPTY_VALUE' });
    expect(decode(msg(0, 'x'.repeat(65)), 64)).toMatchObject({ reason: 'LOGSIFT_MESSAGE_TOO_LARGE', detail: 'value is 65 bytes, over the 64-byte limit' });
    expect(decode(msg(0, Buffer.from([0xc3, 0x28])), 64)).toMatchObject({ reason: 'LOGSIFT_INVALID_UTF8' });
  });

  it('keeps keys as UTF-8 text, or base64 with a marker', () => {
    expect(kafkaSource(msg(5, 'x'))).toEqual({ topic: 'in', partition: 2, offset: '5', timestamp: '1700000000000', key: 'k5' });
    expect(kafkaSource(msg(5, 'x', { key: Buffer.from([0xff, 0x00]) }))).toMatchObject({ key: '/wA=', key_encoding: 'base64' });
    expect(kafkaSource(msg(5, 'x', { key: null })).key).toBeNull();
  });
});

describe('processMessages', () => {
  it('routes matched, unmatched and poison messages with their headers, in input order', async () => {
    const e = new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const r = processMessages(
      [
        msg(10, 'FATAL: too many clients', { headers: { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') } }),
        msg(11, 'all good'),
        msg(12, Buffer.from([0xff]), { headers: { app: Buffer.from('api') } }),
        msg(13, '{"msg":"dial: connection refused"}'),
      ],
      e,
      options,
      now,
    );
    expect(r.records.map((x) => [x.topic, String(x.key)])).toEqual([
      ['out', 'k10'],
      ['un', 'k11'],
      ['out', 'k13'],
      ['dlq', 'k12'],
    ]);
    expect(r).toMatchObject({ matched: 2, unmatched: 1, bytes: 23 + 8 + 34 });
    const first = r.records[0]!;
    expect(first.headers).toMatchObject({ [HEADER.sourceTopic]: 'in', [HEADER.sourcePartition]: '2', [HEADER.sourceOffset]: '10', [HEADER.kbVersion]: kb.version, [HEADER.signatureId]: 'db/too-many', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(JSON.parse(first.value as string)).toMatchObject({ signature_id: 'db/too-many', source: { topic: 'in', partition: 2, offset: '10', key: 'k10' } });
    const dlq = r.records[3]!;
    expect(dlq.value).toEqual(Buffer.from([0xff]));
    expect(dlq.headers).toMatchObject({ app: Buffer.from('api'), [HEADER.dlqReason]: 'LOGSIFT_INVALID_UTF8', [HEADER.dlqTime]: '2026-11-23T00:00:00.000Z', [HEADER.sourceOffset]: '12' });
  });

  it('drops unmatched events when no unmatched topic is set, and keys by signature when asked', async () => {
    const e = new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const r = processMessages([msg(1, 'too many clients'), msg(2, 'nothing')], e, { ...options, unmatchedTopic: null, key: 'signature' }, now);
    expect(r.records.map((x) => [x.topic, x.key])).toEqual([['out', 'db/too-many']]);
    expect(r.unmatched).toBe(1);
  });

  it('dead-letters non-JSON messages when JSON is required', async () => {
    const e = new Enricher(kb, await Matcher.create(kb, { cacheDir: null }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'json' });
    const r = processMessages([msg(1, 'plain text'), msg(2, '{"message":"too many clients"}')], e, { ...options, format: 'json' }, now);
    expect(r.poison.map((p) => p.reason)).toEqual(['LOGSIFT_JSON_REQUIRED']);
    expect(r.matched).toBe(1);
  });

  it('isolates a message the scan fails on: it alone goes to the DLQ, the rest of the chunk goes on', async () => {
    const matcher = await Matcher.create(kb, { cacheDir: null });
    // A scan that fails on one message (as libhs may on a scratch or resource error).
    const failing = Object.create(matcher, {
      scanChecked: {
        value: (texts: readonly string[]) => {
          if (texts.some((t) => t.includes('scanner-breaker'))) throw new LogsiftError(ErrorCodes.SCAN_FAILED, 'Hyperscan scan failed: HS_SCRATCH_IN_USE');
          return matcher.scanChecked(texts);
        },
      },
    }) as Matcher;
    const e = new Enricher(kb, failing, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const r = processMessages([msg(1, 'too many clients'), msg(2, 'scanner-breaker connection refused'), msg(3, 'connection refused'), msg(4, 'nothing')], e, options, now);
    expect(r.poison).toEqual([expect.objectContaining({ reason: 'LOGSIFT_SCAN_FAILED', detail: 'Hyperscan scan failed: HS_SCRATCH_IN_USE', message: expect.objectContaining({ offset: '2' }) })]);
    expect(r.records.map((x) => [x.topic, String(x.key)])).toEqual([
      ['out', 'k1'],
      ['out', 'k3'],
      ['un', 'k4'],
      ['dlq', 'k2'],
    ]);
    expect(r.records[3]!.headers).toMatchObject({ [HEADER.dlqReason]: 'LOGSIFT_SCAN_FAILED', [HEADER.sourceOffset]: '2' });
    expect(r.enriched.map((x) => x.message.offset)).toEqual(['1', '3', '4']);
    expect(r).toMatchObject({ matched: 2, unmatched: 1 });
  });
});
