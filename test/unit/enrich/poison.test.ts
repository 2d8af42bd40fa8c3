/**
 * The two messages that stopped logsift (issue 11), through every shell that runs the per-message
 * path: the daemon's pure pipeline, `logsift scan` and `POST /v1/match`.
 *   1. a JSON log with an array 200,000 levels deep inside `message` (400 KB);
 *   2. a 35-character line against a record whose exact-engine regex backtracks exponentially.
 */
import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { createHttpServer, listen } from '../../../src/http/index.js';
import { HEADER, processMessages, type InputMessage, type ProcessOptions } from '../../../src/kafka/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { runCli } from '../../helpers/cli.js';
import { kbOf, record } from '../../helpers/kb.js';
import { useTempDirs } from '../../helpers/temp.js';

const records = [record('net/refused', 'connection refused'), record('redos/lookahead', '(?=(a+)+b)a')];
const kb = kbOf(...records);
const DEEP = `{"message":["connection refused",${'['.repeat(200_000)}${']'.repeat(200_000)}]}`;
/** 35 characters: Hyperscan's prefilter form finds a candidate ("ab"), JavaScript backtracks 2^32 ways from the start. */
const REDOS = `${'a'.repeat(32)}cab`;
const CLEAN = 'dial tcp: connection refused';
const tempDir = useTempDirs('logsift-poison');

let matcher: Matcher;
let enricher: Enricher;
beforeAll(async () => {
  matcher = await Matcher.create(kb, { cacheDir: null, exactBudgetMs: 50 });
  enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
});
afterAll(() => matcher.close());

it('the ReDoS record is one the exact engine runs (prefilter), in the worker', () => {
  expect(matcher.plan[1]!.cls).toBe('prefilter');
  expect(matcher.exact.runsInline(1)).toBe(false);
});

describe('daemon path (processMessages)', () => {
  const options: ProcessOptions = { outputTopic: 'out', unmatchedTopic: 'un', dlqTopic: 'dlq', key: 'input', format: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxMessageBytes: 1 << 20 };
  const msg = (offset: number, value: string): InputMessage => ({ topic: 'in', partition: 0, offset: String(offset), timestamp: null, key: null, value: Buffer.from(value), headers: {} });

  it('enriches the deep message with a bounded log, and dead-letters the ReDoS one; neighbours go on', () => {
    const r = processMessages([msg(1, CLEAN), msg(2, DEEP), msg(3, REDOS), msg(4, CLEAN)], enricher, options, new Date(0));
    const byTopic = r.records.map((x) => [x.topic, x.headers[HEADER.sourceOffset]]);
    expect(byTopic).toEqual([
      ['out', '1'],
      ['out', '2'],
      ['out', '4'],
      ['dlq', '3'],
    ]);
    const deep = JSON.parse(r.records[1]!.value as string) as { signature_id: string; log: { message: unknown } };
    expect(deep.signature_id).toBe('net/refused');
    expect(JSON.stringify(deep.log)).toContain('[logsift: truncated]');
    expect(r.records[3]!.headers[HEADER.dlqReason]).toBe('LOGSIFT_CONFIRM_TIMEOUT');
    expect(String(r.records[3]!.headers[HEADER.dlqDetail])).toContain('redos/lookahead');
    // The clean messages' events are the same as alone.
    const alone = processMessages([msg(1, CLEAN)], enricher, options, new Date(0));
    expect(r.records[0]!.value).toBe(alone.records[0]!.value);
  });
});

describe('logsift scan', () => {
  it('reports file:line: reason for the ReDoS line, enriches the rest, exits 0', async () => {
    const dir = await tempDir();
    const kbFile = join(dir, 'kb.jsonl');
    await writeFile(kbFile, records.map((r) => JSON.stringify(r)).join('\n'));
    const input = join(dir, 'in.log');
    await writeFile(input, [CLEAN, DEEP, REDOS, CLEAN].join('\n'));
    const r = await runCli(['scan', '--kb', kbFile, '--no-cache', '--input', input, '--exact-budget', '50']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${input}:3: exact engine ran out of its 50 ms budget on record(s) redos/lookahead; line skipped`);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: { line: number }; signature_id: string });
    expect(events.map((e) => [e.source.line, e.signature_id])).toEqual([
      [1, 'net/refused'],
      [2, 'net/refused'],
      [4, 'net/refused'],
    ]);
  });
});

describe('POST /v1/match', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createHttpServer({ metrics: new LogsiftMetrics({ signatureLabel: true }), readiness: () => ({}), enricher: () => enricher });
    base = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('answers 422 LOGSIFT_CONFIRM_TIMEOUT for the ReDoS text, and matches the deep one', async () => {
    const t = await fetch(`${base}/v1/match`, { method: 'POST', body: REDOS, headers: { 'content-type': 'text/plain' } });
    expect(t.status).toBe(422);
    expect(await t.json()).toMatchObject({ code: 'LOGSIFT_CONFIRM_TIMEOUT', record_ids: ['redos/lookahead'] });
    const deep = `connection refused ${'['.repeat(30_000)}${']'.repeat(30_000)}`; // under the 64 KiB body limit
    const d = await fetch(`${base}/v1/match`, { method: 'POST', body: JSON.stringify({ text: deep }), headers: { 'content-type': 'application/json' } });
    expect(d.status).toBe(200);
    expect(await d.json()).toMatchObject({ signature_id: 'net/refused' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

describe('per-message guards', () => {
  it('a tie-break span that backtracks is LOGSIFT_CONFIRM_TIMEOUT (rank step); its neighbour is enriched', async () => {
    // Same signature and confidence: the tie is broken by the span, which JavaScript finds by backtracking.
    const tieKb = kbOf(record('tie/nested', '(a+)+b', { signature: 'x' }), record('tie/plain', 'ab', { signature: 'x' }));
    const m = await Matcher.create(tieKb, { cacheDir: null, exactBudgetMs: 50 });
    try {
      const e = new Enricher(tieKb, m, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
      const [bad, good] = e.process([{ value: Buffer.from(REDOS), source: {} }, { value: Buffer.from('x ab'), source: {} }], { maxMessageBytes: 1024 });
      expect(bad).toMatchObject({ kind: 'poison', code: 'LOGSIFT_CONFIRM_TIMEOUT' });
      expect(bad!.kind === 'poison' && bad!.detail).toContain('tie/nested');
      expect(good).toMatchObject({ kind: 'event' });
    } finally {
      m.close();
    }
  });

  it('a scan that throws on one message isolates it (LOGSIFT_SCAN_FAILED); a step that throws is LOGSIFT_MESSAGE_FAILED', async () => {
    const tieKb = kbOf(record('t/one', 'connection refused', { signature: 's' }), record('t/two', 'refused', { signature: 's' }));
    const real = await Matcher.create(tieKb, { cacheDir: null });
    // A matcher that fails on texts containing BOOM (scan) and on every tie-break span, delegating otherwise.
    const failing = Object.create(real) as Matcher;
    failing.scanChecked = (texts) => {
      if (texts.some((t) => String(t).includes('BOOM'))) throw new Error('scan exploded');
      return real.scanChecked(texts);
    };
    failing.spanLengths = () => {
      throw new Error('span exploded');
    };
    const e = new Enricher(tieKb, failing, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const out = e.process(
      ['ok line', 'BOOM', 'connection refused'].map((t) => ({ value: Buffer.from(t), source: {} })),
      { maxMessageBytes: 1024 },
    );
    expect(out.map((o) => (o.kind === 'poison' ? `${o.code} ${o.detail}` : o.kind))).toEqual(['unmatched', 'LOGSIFT_SCAN_FAILED scan exploded', 'LOGSIFT_MESSAGE_FAILED rank: Error: span exploded']);
    real.close();
  });

  it('building a produce record that throws dead-letters the message, with the input headers if they can be copied', () => {
    const options: ProcessOptions = {
      outputTopic: 'out', unmatchedTopic: null, dlqTopic: 'dlq', key: 'input', format: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxMessageBytes: 1024,
      decorate: (m) => {
        if (m.offset === '1') throw new Error('decorate exploded');
      },
    };
    const headers = Object.defineProperty({}, 'bad', { enumerable: true, get: () => { throw new Error('header exploded'); } }) as InputMessage['headers'];
    const m = (offset: number, extra: Partial<InputMessage> = {}): InputMessage => ({ topic: 'in', partition: 0, offset: String(offset), timestamp: null, key: null, value: Buffer.from(CLEAN), headers: {}, ...extra });
    const r = processMessages([m(1), m(2), m(3, { value: Buffer.from([0xff]), headers })], enricher, options, new Date(0));
    expect(r.records.map((x) => [x.topic, x.headers[HEADER.sourceOffset], x.headers[HEADER.dlqReason] ?? null, x.headers[HEADER.dlqDetail] ?? null])).toEqual([
      ['out', '2', null, null],
      ['dlq', '1', 'LOGSIFT_MESSAGE_FAILED', 'record: decorate exploded'],
      ['dlq', '3', 'LOGSIFT_INVALID_UTF8', 'invalid UTF-8 at byte 0; input headers dropped: header exploded'],
    ]);
    expect(r).toMatchObject({ matched: 1, unmatched: 0 });
  });
});
