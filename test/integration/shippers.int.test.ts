/**
 * Real shippers produce logsift's input: rsyslog (omkafka) and syslog-ng (kafka-c) tail a file and
 * write it to the mock cluster as JSON (their documented templates), RFC 5424 and RFC 3164 text;
 * `logsift run` reads all six topics. For every line written, in every format: one event, the same
 * signature as the bare line, host and app name in `resource`, nothing lost (counted by content).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MESSAGE_FIELDS, Enricher, parseSyslog, type LogsiftEvent } from '../../src/enrich/index.js';
import { loadKnowledgeBase } from '../../src/kb/index.js';
import { Matcher } from '../../src/matcher/index.js';
import { MockCluster } from '../helpers/broker.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { readAll } from '../helpers/kafka.js';
import { STARTER_KB, TEST_CACHE_DIR } from '../helpers/shared.js';
import { startRsyslog, startSyslogNg, type Shipper, type ShipperTopics } from '../helpers/shippers.js';
import { starterLines } from '../helpers/shipper-lines.js';
import { useTempDirs } from '../helpers/temp.js';
import { randomName, waitFor } from '../helpers/wait.js';

let cluster: MockCluster;
let enricher: Enricher;
const cleanup: (() => Promise<void>)[] = [];
const tempDir = useTempDirs('logsift-shippers');

beforeAll(async () => {
  cluster = await MockCluster.start();
  cleanup.push(() => cluster.stop());
  const { kb } = await loadKnowledgeBase([STARTER_KB]);
  enricher = new Enricher(kb, await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR }), { fields: DEFAULT_MESSAGE_FIELDS, format: 'raw' });
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** The line a shipper's message carries: the JSON template's message field, or the syslog MSG. */
function carriedLine(log: unknown): string {
  if (typeof log === 'string') return (parseSyslog(log)?.message ?? `UNPARSED ${log}`).replace(/\n$/, '');
  const o = log as Record<string, unknown>;
  return String(o['message'] ?? o['MESSAGE']);
}

describe('rsyslog and syslog-ng in front of logsift run', () => {
  it('every line written gives its event in every format, nothing lost', async () => {
    const lines = starterLines();
    const shippers: [string, (dir: string, input: string, brokers: string, t: ShipperTopics) => Shipper][] = [
      ['rsyslog', startRsyslog],
      ['syslog-ng', startSyslogNg],
    ];
    const [output, unmatched, group] = ['events', 'unmatched', 'group'].map(randomName);
    await cluster.createTopic(output!, 2);
    await cluster.createTopic(unmatched!, 2);
    const inputs = new Map<string, string>(); // topic -> "shipper format"
    const running: Shipper[] = [];
    for (const [name, start] of shippers) {
      const topics: ShipperTopics = { json: randomName(`${name}-json`), rfc5424: randomName(`${name}-5424`), rfc3164: randomName(`${name}-3164`) };
      for (const [format, t] of Object.entries(topics)) {
        await cluster.createTopic(t, 1);
        inputs.set(t, `${name} ${format}`);
      }
      const dir = await tempDir();
      const input = join(dir, 'app.log');
      writeFileSync(input, '');
      const s = start(dir, input, cluster.bootstrap, topics);
      running.push(s);
      cleanup.push(() => s.stop());
      // Appended after start so a tailing reader sees every line, whatever its start position.
      appendFileSync(input, lines.map((l) => `${l.text}\n`).join(''));
    }

    const daemon = await DaemonProcess.start({ brokers: cluster.brokers, input: [...inputs.keys()].join(','), output: output!, unmatched: unmatched!, group: group!, kb: [STARTER_KB] });
    cleanup.push(() => daemon.stop());
    const want = lines.length * inputs.size;
    const records = await waitFor(
      async () => {
        const all = [...(await readAll(cluster.brokers, output!)), ...(await readAll(cluster.brokers, unmatched!))];
        return all.length >= want ? all : null;
      },
      `${want} events (shipper output: ${running.map((s) => `${s.name}: ${s.output().slice(0, 400)}`).join(' | ')})`,
      90_000,
      250,
    );
    expect(records.length).toBe(want);

    const expected = new Map(lines.map((l) => [l.text, enricher.enrichBatch([l.text], [{}])[0]!.signatureId]));
    const byInput = new Map<string, string[]>();
    for (const r of records) {
      const e = JSON.parse(r.value!) as LogsiftEvent & { source: { topic: string } };
      const where = inputs.get(e.source.topic)!;
      const line = carriedLine(e.log);
      byInput.set(where, [...(byInput.get(where) ?? []), line]);
      expect(e.signature_id, `${where}: ${line}`).toBe(expected.get(line));
      expect(e.resource, `${where}: ${JSON.stringify(e.log)}`).toEqual({ 'service.name': 'api', 'host.name': 'web-1' });
    }
    // Counted by content: each input topic carries every line exactly once.
    const sorted = lines.map((l) => l.text).sort();
    for (const where of inputs.values()) expect(byInput.get(where)?.sort(), where).toEqual(sorted);
    const matched = [...expected.values()].filter((s) => s !== null).length;
    console.log(`[shippers] ${lines.length} lines × ${inputs.size} shipper formats: ${records.length} events, ${matched * inputs.size} matched, lost 0`);
    for (const s of running) await s.stop();
  });
});
