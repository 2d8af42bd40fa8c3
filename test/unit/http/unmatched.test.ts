import type { Server } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../../../src/enrich/index.js';
import { mineUnmatched } from '../../../src/app/index.js';
import { createHttpServer, listen } from '../../../src/http/index.js';
import { Matcher } from '../../../src/matcher/index.js';
import { ErrorTextSelector, UnmatchedMiner } from '../../../src/suggest/index.js';
import { LogsiftMetrics } from '../../../src/telemetry/index.js';
import { kbOf, record } from '../../helpers/kb.js';

const kb = kbOf(record('net/refused', 'connection refused'));
const servers: Server[] = [];
let metrics: LogsiftMetrics;

async function serve(miner: UnmatchedMiner | null): Promise<string> {
  const matcher = await Matcher.create(kb, { cacheDir: null });
  const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  const server = createHttpServer({ metrics, readiness: () => ({ kbLoaded: true }), enricher: () => enricher, ...(miner ? { unmatched: (n: number) => miner.view(n) } : {}) });
  servers.push(server);
  return `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}`;
}

let base: string;
beforeAll(async () => {
  metrics = new LogsiftMetrics({ signatureLabel: true, processMetrics: false });
  const miner = new UnmatchedMiner({ fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
  const lines = ['ERROR disk /dev/sda1 full', 'ERROR disk /dev/sdb2 full', 'FATAL cannot allocate 4096 bytes', 'INFO ok'];
  // As the daemon does it: the texts are selected where the chunk was enriched, then mined.
  const selector = new ErrorTextSelector();
  const selected = lines.map((l) => selector.select(l)).filter((t) => t !== null);
  mineUnmatched(miner, lines.length, selected, (n, templates) => metrics.unmatchedMined(n, templates), (err) => {
    throw err;
  });
  base = await serve(miner);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe('GET /v1/unmatched', () => {
  it('returns the top templates with counts, examples and drafts', async () => {
    const res = await fetch(`${base}/v1/unmatched?limit=1`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { unmatched_messages: number; error_lines: number; templates: number; top: { count: number; template: string; example: string; draft: { regex: string } }[] };
    expect([body.unmatched_messages, body.error_lines, body.templates]).toEqual([4, 3, 2]);
    expect(body.top).toHaveLength(1);
    expect(body.top[0]).toMatchObject({ count: 2, template: 'ERROR disk <PATH> full', example: 'ERROR disk /dev/sda1 full' });
    expect(body.top[0]!.draft.regex).toBe('ERROR\\s+disk\\s+\\S+\\s+full');
  });

  it('validates limit and method; 404 when mining is off', async () => {
    expect((await fetch(`${base}/v1/unmatched?limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/v1/unmatched?limit=x`)).status).toBe(400);
    expect((await fetch(`${base}/v1/unmatched`, { method: 'POST' })).status).toBe(405);
    const off = await serve(null);
    expect((await fetch(`${off}/v1/unmatched`)).status).toBe(404);
  });

  it('the daemon hook reports a mining failure instead of throwing', () => {
    const failures: unknown[] = [];
    const broken = {
      templates: 0,
      addSelected: (): number => {
        throw new Error('boom');
      },
    };
    mineUnmatched(broken, 1, [{ text: 'ERROR x', masked: 'ERROR x' }], () => failures.push('mined'), (err) => failures.push((err as Error).message));
    expect(failures).toEqual(['boom']);
  });

  it('exposes the bounded metrics', async () => {
    const text = (await metrics.expose(false)).body;
    expect(text).toContain('logsift_unmatched_error_lines_total 3');
    expect(text).toContain('logsift_unmatched_templates 2');
  });
});
