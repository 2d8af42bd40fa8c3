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
