/**
 * `npm run demo`: the daemon live. Starts the mock Kafka cluster (tools/mock-broker), streams a mix of
 * normal log lines (loghub from ../shared when present, else data/samples/normal.log) and error lines
 * from the bundled KB's examples into it, runs `logsift run` with the bundled KB, and prints a summary
 * from the daemon's /metrics every 2 s. Ends after LOGSIFT_DEMO_SECONDS (default 20) or on Ctrl-C, and
 * stops the broker and the daemon either way.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Kafka, logLevel, type Producer } from 'kafkajs';

import { defaultCacheDir } from '../../src/matcher/index.js';
import { MockCluster } from '../../test/helpers/broker.js';
import { DaemonProcess } from '../../test/helpers/daemon.js';
import { LOGHUB_DIR, REPO_ROOT, STARTER_KB } from '../../test/helpers/shared.js';
import { waitFor } from '../../test/helpers/wait.js';

const SECONDS = Number(process.env['LOGSIFT_DEMO_SECONDS'] ?? 20);
const RATE = Number(process.env['LOGSIFT_DEMO_RATE'] ?? 4000); // messages per second
const ERROR_SHARE = 0.08;
const INPUT = 'demo.logs';
const OUTPUT = 'demo.events';
const say = (text: string): void => void process.stdout.write(`${text}\n`);

/** Normal traffic: loghub's 16 systems when ../shared is there, else the bundled sample. */
function normalLines(): { lines: string[]; source: string } {
  if (existsSync(LOGHUB_DIR)) {
    const files = readdirSync(LOGHUB_DIR).filter((f) => f.endsWith('.log'));
    const lines = files.flatMap((f) => readFileSync(join(LOGHUB_DIR, f), 'utf8').split('\n').filter(Boolean));
    if (lines.length > 0) return { lines, source: `loghub (${files.length} systems, ${lines.length} lines)` };
  }
  const file = join(REPO_ROOT, 'data', 'samples', 'normal.log');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { lines, source: `data/samples/normal.log (${lines.length} lines)` };
}

/** Error traffic: every `examples.match` line of the bundled KB's records. */
function errorLines(): string[] {
  const lines: string[] = [];
  for (const f of readdirSync(STARTER_KB).filter((n) => n.endsWith('.json'))) {
    const parsed = JSON.parse(readFileSync(join(STARTER_KB, f), 'utf8')) as unknown;
    for (const r of Array.isArray(parsed) ? parsed : [parsed]) lines.push(...((r as { examples?: { match?: string[] } }).examples?.match ?? []));
  }
  return lines;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (samples: Sample[], name: string, filter: (l: Record<string, string>) => boolean = () => true): number =>
  samples.filter((s) => s.name === name && filter(s.labels)).reduce((a, s) => a + s.value, 0);

const clip = (text: string, n: number): string => (text.length <= n ? text.padEnd(n) : `${text.slice(0, n - 1)}…`);

class Summary {
  private lastIn = 0;
  private lastAt = Date.now();
  constructor(private readonly metricsUrl: string) {}

  async scanned(): Promise<number> {
    return sum(parseMetrics(await (await fetch(this.metricsUrl)).text()), 'logsift_messages_total');
  }

  async print(elapsed: number, produced: number): Promise<{ messages: number; matched: number }> {
    const samples = parseMetrics(await (await fetch(this.metricsUrl)).text());
    const messages = sum(samples, 'logsift_messages_total');
    const matched = sum(samples, 'logsift_messages_total', (l) => l['outcome'] === 'matched');
    const now = Date.now();
    const rate = ((messages - this.lastIn) * 1000) / Math.max(1, now - this.lastAt);
    this.lastIn = messages;
    this.lastAt = now;
    const info = new Map(samples.filter((s) => s.name === 'logsift_signature_info').map((s) => [s.labels['signature_id']!, s.labels]));
    const top = samples
      .filter((s) => s.name === 'logsift_signature_matches_total' && s.value > 0)
      .sort((a, b) => b.value - a.value)
      .slice(0, 5);
    const share = messages > 0 ? ((100 * matched) / messages).toFixed(1) : '0.0';
    say(
      `[${String(Math.round(elapsed)).padStart(3)} s] produced ${produced} · scanned ${messages} (${Math.round(rate)} msg/s) · ` +
        `matched ${matched} (${share}%) · events out ${sum(samples, 'logsift_events_produced_total')}`,
    );
    for (const t of top) {
      const id = t.labels['signature_id'] ?? '?';
      const i = info.get(id);
      // Workaround ids are `<record id>#w<n>` unless the KB names them: show the short form.
      const workarounds = (i?.['workaround_ids'] ?? '').split(',').filter(Boolean).map((w) => (w.startsWith(`${id}#`) ? w.slice(id.length) : w));
      say(`  ${String(t.value).padStart(6)}  ${clip(id, 44)} ${clip(i?.['root_cause'] ?? '', 60)} ${workarounds.join(' ')}`);
    }
    return { messages, matched };
  }
}

async function stream(producer: Producer, normal: string[], errors: string[], until: () => boolean, counter: { sent: number }): Promise<void> {
  let n = 0;
  const batch = Math.max(1, Math.round(RATE / 10));
  while (!until()) {
    const started = Date.now();
    const messages = Array.from({ length: batch }, () => {
      n++;
      const value = Math.random() < ERROR_SHARE ? errors[n % errors.length]! : normal[n % normal.length]!;
      return { key: `host-${n % 7}`, value };
    });
    await producer.send({ topic: INPUT, messages });
    counter.sent += messages.length;
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
  }
}

async function main(): Promise<number> {
  if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error(`LOGSIFT_DEMO_SECONDS must be a positive number (got ${process.env['LOGSIFT_DEMO_SECONDS']})`);
  let interrupted = false;
  let cluster: MockCluster | undefined;
  let daemon: DaemonProcess | undefined;
  let producer: Producer | undefined;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const normal = normalLines();
    const errors = errorLines();
    cluster = await MockCluster.start({ topics: { [INPUT]: 3, [OUTPUT]: 3, 'demo.dlq': 1 } });
    say(`logsift demo: mock Kafka cluster at ${cluster.bootstrap} (pid ${cluster.pid})`);
    say(`  input ${INPUT}: ${normal.source} + ${errors.length} error lines from the bundled KB (${Math.round(ERROR_SHARE * 100)}%), ~${RATE} msg/s for ${SECONDS} s`);
    daemon = await DaemonProcess.start({
      brokers: cluster.brokers,
      input: INPUT,
      output: OUTPUT,
      group: 'logsift-demo',
      kb: [STARTER_KB],
      dlq: 'demo.dlq',
      env: { LOGSIFT_KB_CACHE_DIR: defaultCacheDir() },
    });
    const metricsUrl = `http://127.0.0.1:${daemon.port}/metrics`;
    say(`  logsift run (pid ${daemon.pid}) -> ${OUTPUT}; metrics at ${metricsUrl}`);
    await daemon.waitReady();
    const kafka = new Kafka({ clientId: 'logsift-demo', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();

    const summary = new Summary(metricsUrl);
    const started = Date.now();
    const done = (): boolean => interrupted || Date.now() - started >= SECONDS * 1000;
    const counter = { sent: 0 };
    const ticker = setInterval(() => void summary.print((Date.now() - started) / 1000, counter.sent).catch(() => undefined), 2000);
    try {
      await stream(producer, normal.lines, errors, done, counter);
    } finally {
      clearInterval(ticker);
    }
    if (!interrupted) {
      // Let the daemon finish what was produced (a few seconds at most), then the final line.
      await waitFor(async () => interrupted || (await summary.scanned()) >= counter.sent, 'the daemon to catch up', 15_000, 250).catch(() => undefined);
    }
    say('final:');
    const last = await summary.print((Date.now() - started) / 1000, counter.sent);
    say(`logsift demo: ${last.matched} of ${last.messages} messages matched a signature; stopping`);
    return interrupted ? 130 : 0;
  } finally {
    await producer?.disconnect().catch(() => undefined);
    if (daemon) {
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon?.kill('SIGKILL'), 10_000);
      await daemon.wait();
      clearTimeout(timer);
    }
    await cluster?.stop();
    say(`logsift demo: stopped the daemon${daemon ? ` (pid ${daemon.pid})` : ''} and the broker${cluster ? ` (pid ${cluster.pid})` : ''}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`logsift demo: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
