/**
 * The daemon's enrichment workers give the records the event loop would have made: same topics, keys,
 * values and headers, same poison with the same reasons, same counts and primaries — on the dev lines
 * with the 2,522-record KB, poison of every kind, OTLP messages told by their content-type header,
 * binary keys and non-ASCII lines, and the same unmatched texts chosen for template mining. A KB
 * reload's old pool closes only once its chunks are back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadKbAndMatcher } from '../../../src/app/index.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher, type EnrichOptions } from '../../../src/enrich/index.js';
import { EnrichPool, chunkRecords, enrichChunk, processMessages, type InputMessage, type OutputRecord, type ProcessOptions, type ProcessResult } from '../../../src/kafka/index.js';
import { ENRICH_SLICE, enrichJob, packJob, unpackReply } from '../../../src/kafka/enrich-pool.js';
import type { KnowledgeBase } from '../../../src/kb/index.js';
import { kbSource } from '../../../src/kb/snapshot.js';
import { defaultPrebuiltDirs, type Matcher } from '../../../src/matcher/index.js';
import { ErrorTextSelector } from '../../../src/suggest/index.js';
import { sdkOtlpLogs } from '../../helpers/otlp.js';
import { DEADENDS_RECORDS, REPO_ROOT, TEST_CACHE_DIR, hasShared, pythonAnswers, readDevLines } from '../../helpers/shared.js';

const options: ProcessOptions = { outputTopic: 'out', unmatchedTopic: 'un', dlqTopic: 'dlq', key: 'input', format: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxMessageBytes: 4096 };
const now = new Date('2026-12-04T00:00:00Z');
const enrichOptions: EnrichOptions = { fields: [...DEFAULT_MESSAGE_FIELDS], format: 'auto' };

let kb: KnowledgeBase;
let matcher: Matcher;
let enricher: Enricher;
let pool: EnrichPool;

beforeAll(async () => {
  const paths = hasShared() ? [DEADENDS_RECORDS] : [join(REPO_ROOT, 'data', 'kb')];
  ({ kb, matcher } = await loadKbAndMatcher(paths, { allowInvalid: false, matcher: { cacheDir: TEST_CACHE_DIR } }, { skipped: () => undefined, build: () => undefined }));
  enricher = new Enricher(kb, matcher, enrichOptions);
  pool = await EnrichPool.start(kb, { workers: 2, init: { kb: kbSource(kb), matcher: { ignoreCase: true, cacheDir: TEST_CACHE_DIR, exactBudgetMs: 50, prebuiltDirs: defaultPrebuiltDirs() }, enrich: enrichOptions, mining: {} } });
  // The main thread's Unicode database, as the daemon hands it over once compiled.
  await matcher.unicodeReady;
  if (matcher.unicodeComplete) pool.attachUnicode(matcher.exportUnicode());
}, 120_000);
afterAll(async () => {
  await pool.retire();
  matcher.close();
});

function msg(offset: number, value: Buffer | string | null, extra: Partial<InputMessage> = {}): InputMessage {
  return { topic: 'in', partition: 3, offset: String(offset), timestamp: String(1_700_000_000_000 + offset), key: Buffer.from(`k${offset}`), value: typeof value === 'string' ? Buffer.from(value) : value, headers: {}, ...extra };
}

/** A record as plain data: values and keys as text, headers as text. */
function plain(r: OutputRecord): unknown {
  const text = (v: Buffer | string | null): string | null => (v === null ? null : Buffer.isBuffer(v) ? v.toString('latin1') : Buffer.from(v).toString('latin1'));
  return { topic: r.topic, key: text(r.key), value: text(r.value), headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, text(v)])) };
}

function comparable(r: ProcessResult): unknown {
  return {
    records: r.records.map(plain),
    items: r.items.map(({ result: _result, value, ...rest }) => ({ ...rest, value: value === null ? null : Buffer.from(value).toString('latin1') })),
    poison: r.poison.map((p) => [p.message.offset, p.reason, p.detail]),
    counts: [r.matched, r.weak, r.unmatched, r.bytes, r.kbVersion],
  };
}

async function both(messages: InputMessage[], o: ProcessOptions = options): Promise<{ inline: ProcessResult; pooled: ProcessResult }> {
  const selector = new ErrorTextSelector({});
  const inline = processMessages(messages, enricher, o, now, (text, log) => selector.select(text, log));
  const pooled = chunkRecords(messages, await pool.enrich(messages, o), o, now);
  return { inline, pooled };
}

/** Poison of every kind, OTLP messages (JSON with two records and a trace, protobuf), binary keys and non-ASCII lines. */
async function mixedMessages(): Promise<InputMessage[]> {
  const otlpJson = await sdkOtlpLogs({ 'service.name': 'checkout', 'k8s.pod.name': 'checkout-7d9' }, [{ body: 'FATAL: connection refused by db:5432', trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' } }, { body: 'all good' }], 'json');
  const otlpProto = await sdkOtlpLogs({ 'service.name': 'api' }, [{ body: 'java.lang.OutOfMemoryError: Java heap space' }], 'proto');
  const nonAscii = hasShared()
    ? pythonAnswers('gen-nonascii-fixture.py').slice(0, 40).map((l) => l.line)
    : ['connection\u00a0refused by db:5432', 'Straße\u2003java.lang.OutOfMemoryError: Java heap space', '接続が拒否されました: connection refused', 'exit code ٣٤٥\x1fkilled'];
  return [
    msg(0, 'psql: FATAL: sorry, too many clients already', { headers: { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), app: Buffer.from('api') } }),
    msg(1, null),
    msg(2, Buffer.from([0xc3, 0x28])),
    msg(3, 'x'.repeat(5000)),
    msg(4, otlpJson, { headers: { 'content-type': Buffer.from('application/json') } }),
    msg(5, otlpProto, { headers: { 'content-type': Buffer.from('application/x-protobuf') }, key: Buffer.from([0xff, 0x00, 0x80]) }),
    msg(6, Buffer.from([0x0a, 0x7f, 0x01]), { headers: { 'content-type': Buffer.from('application/x-protobuf') } }),
    msg(7, '{"level":"error","message":"Error: ECONNREFUSED 127.0.0.1:6379","service":"cart"}', { key: null }),
    ...nonAscii.map((l, i) => msg(8 + i, l)),
  ];
}

describe('enrichment workers', () => {
  it('give the event loop’s records for the dev lines, chunk by chunk', async () => {
    const lines = hasShared() ? readDevLines().map((l) => l.line) : readFileSync(join(REPO_ROOT, 'data', 'samples', 'demo.log'), 'utf8').split('\n');
    let matched = 0;
    let mined = 0;
    for (let start = 0; start < lines.length; start += 700) {
      const messages = lines.slice(start, start + 700).map((l, i) => msg(start + i, l));
      const { inline, pooled } = await both(messages);
      expect(comparable(pooled)).toEqual(comparable(inline));
      matched += pooled.matched;
      mined += pooled.items.filter((i) => i.mined !== undefined).length;
    }
    expect(matched).toBeGreaterThan(100);
    expect(mined).toBeGreaterThan(0);
  });

  it('give the same poison, OTLP items, binary keys and non-ASCII events', async () => {
    const messages = await mixedMessages();
    const { inline, pooled } = await both(messages);
    expect(comparable(pooled)).toEqual(comparable(inline));
    expect(pooled.poison.map((p) => p.reason)).toEqual(expect.arrayContaining(['LOGSIFT_EMPTY_VALUE', 'LOGSIFT_INVALID_UTF8', 'LOGSIFT_MESSAGE_TOO_LARGE', 'LOGSIFT_OTLP_INVALID']));
    expect(pooled.items.some((i) => i.resource?.['service.name'] === 'checkout')).toBe(true);
    // Without an unmatched topic, unmatched messages make no event but are still counted.
    const quiet = { ...options, unmatchedTopic: null, key: 'signature' as const };
    const r = await both(messages, quiet);
    expect(comparable(r.pooled)).toEqual(comparable(r.inline));
  });

  it('enrich a job slice by slice as they would whole: owners, poison, OTLP items, resources, trace links, mined texts, events', async () => {
    const messages = await mixedMessages();
    const selector = new ErrorTextSelector({});
    const select = (text: string, log: unknown) => selector.select(text, log);
    const whole = processMessages(messages, enricher, options, now, select);
    const sliced = (slice: number): ProcessResult => chunkRecords(messages, unpackReply(enrichJob(packJob(messages, options), (part) => enrichChunk(part, enricher, options, false, select), slice), kb), options, now);
    expect(messages.length).toBeLessThan(ENRICH_SLICE);
    for (const slice of [1, 2, 7, ENRICH_SLICE]) {
      const r = sliced(slice);
      expect(comparable(r)).toEqual(comparable(whole));
      expect(r.items.map((i) => [i.owner, i.resource, i.traceLink, i.mined])).toEqual(whole.items.map((i) => [i.owner, i.resource, i.traceLink, i.mined]));
    }
    expect(whole.items.some((i) => i.traceLink !== undefined)).toBe(true);
    expect(whole.items.some((i) => i.mined !== undefined)).toBe(true);
    // An empty job still answers, with its KB version.
    expect(unpackReply(enrichJob(packJob([], options), (part) => enrichChunk(part, enricher, options, false)), kb)).toMatchObject({ kbVersion: kb.version, items: [], poison: [] });
  });

  it('retire() waits for the chunks in flight, then closes', async () => {
    const other = await EnrichPool.start(kb, { workers: 1, init: { kb: kbSource(kb), matcher: { ignoreCase: true, cacheDir: TEST_CACHE_DIR, exactBudgetMs: 50, prebuiltDirs: defaultPrebuiltDirs() }, enrich: enrichOptions, mining: null } });
    const pending = other.enrich([msg(0, 'psql: FATAL: sorry, too many clients already')], options);
    const retired = other.retire();
    const chunk = await pending;
    await retired;
    expect(chunk.items).toHaveLength(1);
    await expect(other.enrich([msg(1, 'x')], options)).rejects.toThrow(/closed/);
  });
});
