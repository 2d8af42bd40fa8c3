/**
 * `logsift scan`: the embedded job, no Kafka. Lines in (file or stdin), one JSON event per line out,
 * in input order; a summary on stderr.
 *
 * A batch of lines is rendered by `renderBatch` (the per-message path, Enricher.process, then the
 * output text), on this thread or, with `--threads N`, on a pool of worker threads (scan-pool.ts)
 * that render whole batches in parallel; this thread writes the results in input order.
 */
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';

import type { Enricher, FileSource, InputFormat, LogsiftEvent, MessageInput } from '../enrich/index.js';
import { ErrorCodes } from '../errors.js';
import type { MatchedSignature } from '../kafka/observer.js';
import type { ErrorLineOptions, MinedText, MiningSelector } from '../suggest/index.js';
import { readLines } from './line-reader.js';

/**
 * Lines per batch (`--batch-size`): one native scan call, one rendered text. Small enough that a batch's
 * objects (texts, matches, events) die young: at 512 lines and more, V8's scavenges found most of a
 * batch still alive, promoted it and ran old-space collections every few batches — on loghub ×10,
 * 256 lines measured 0.83 s against 0.96 s for 2048 (`--emit matched`) and 1.27–1.40 s against
 * 1.68–1.85 s (`--emit all`), the same on the dev lines; large enough that the native call's own
 * cost stays small (README, Benchmarks).
 */
export const DEFAULT_BATCH_LINES = 256;

/** Worker threads start only once the input is this many lines (a small input is done before they would be). */
export const POOL_AFTER_LINES = 8192;

export interface ScanOptions {
  input: string; // path or '-'
  emit: 'matched' | 'all';
  format: 'json' | 'text';
  inputFormat: InputFormat;
  fields: readonly string[];
  maxLineBytes: number;
  batchSize: number;
}

export interface ScanSummary {
  lines: number;
  matched: number;
  /** Lines whose matches were all weak (below --min-strength): no primary, not in `matched`. */
  weak: number;
  errors: number;
  seconds: number;
  top: { id: string; count: number }[];
}

/** One rendered batch: its output text in input order and what the summary and hooks need. */
export interface RenderedBatch {
  /** stdout text: events (and error records with --emit all), in input order. */
  text: string | Uint8Array;
  /** stderr lines of the lines skipped, in input order. */
  skipped: string[];
  lines: number;
  bytes: number;
  weak: number;
  /** Record index of each primary match, in input order. */
  primaries: number[];
  /**
   * When mining (`--suggest`): how many lines matched nothing, and the texts of those the mining
   * selector chose (from the text already extracted); else null.
   */
  unmatched: { seen: number; texts: MinedText[] } | null;
}

export interface RenderOptions {
  emit: ScanOptions['emit'];
  format: ScanOptions['format'];
  maxLineBytes: number;
  fileName: string;
  /** The error-line options of the unmatched-line mining (`--suggest`); null when not mining. */
  mining: ErrorLineOptions | null;
}

/** Renders batches elsewhere (the worker pool); `runScan` keeps their order. */
export interface BatchRenderer {
  render(inputs: readonly MessageInput[]): Promise<RenderedBatch>;
  close(): Promise<void>;
}

/**
 * A pool that `runScan` starts once the input has more than `startAfterBatches` batches; its workers
 * render with the same options as this thread.
 */
export interface ScanPool {
  startAfterBatches: number;
  start(render: RenderOptions): Promise<BatchRenderer>;
}

/**
 * Renders one batch: the per-message path (Enricher.process), exactly one outcome per line. `select`:
 * the mining selector made from `options.mining` (built once per thread by the caller).
 */
export function renderBatch(enricher: Enricher, inputs: readonly MessageInput[], options: RenderOptions, select?: MiningSelector): RenderedBatch {
  const outcomes = inputs.length > 0 ? enricher.process(inputs, { maxMessageBytes: options.maxLineBytes, noun: 'line', unmatchedEvents: options.emit === 'all' }) : [];
  const r: RenderedBatch = { text: '', skipped: [], lines: outcomes.length, bytes: 0, weak: 0, primaries: [], unmatched: select ? { seen: 0, texts: [] } : null };
  let text = '';
  outcomes.forEach((o, k) => {
    const lineNo = (inputs[k]!.source as FileSource).line;
    if (o.kind === 'poison') {
      const message = o.code === ErrorCodes.MESSAGE_TOO_LARGE ? `${o.detail} (--max-line-bytes)` : o.detail;
      r.skipped.push(`logsift: ${options.fileName}:${lineNo}: ${message}; line skipped\n`);
      if (options.emit === 'all') text += `${JSON.stringify({ schema: 'logsift.error/v1', error: { code: o.code, message }, source: { file: options.fileName, line: lineNo } })}\n`;
      return;
    }
    r.bytes += o.bytes;
    const m = o.result;
    if (m.weak) r.weak++;
    if (!m.matched && r.unmatched) {
      r.unmatched.seen++;
      const mined = select!(o.text, o.log);
      if (mined !== null) r.unmatched.texts.push(mined);
    }
    if (m.matched) r.primaries.push(m.primary!.index);
    if (m.matched || options.emit === 'all') text += options.format === 'text' ? formatText(m.event) : `${o.json}\n`;
  });
  r.text = text;
  return r;
}

export interface ScanHooks {
  /** Called per scanned batch (metrics): outcome counts and the ids of primary matches. */
  onBatch?: (batch: { lines: number; bytes: number; seconds: number; primaries: MatchedSignature[]; weak: number; errors: number }) => void;
  /**
   * `--suggest`: the lines that matched nothing are mined. `select` chooses their texts on this thread
   * (worker threads make theirs from `options`); per batch `add` gets how many lines matched nothing
   * and the chosen texts.
   */
  unmatched?: { options: ErrorLineOptions; select: MiningSelector; add: (seen: number, texts: MinedText[]) => void };
}

function formatText(e: LogsiftEvent): string {
  const where = 'line' in e.source ? `${e.source.line}` : '-';
  if (!e.signature_id) return `${where}\t-\n`;
  const others = e.matches.length > 1 ? ` (+${e.matches.length - 1} more: ${e.matches.slice(1, 4).join(', ')}${e.matches.length > 4 ? ', …' : ''})` : '';
  return `${where}\t${e.signature_id}${others}\n\troot cause: ${e.root_cause}\n\tworkarounds: ${e.workaround_ids.join(', ') || '-'}\n`;
}

export async function runScan(
  options: ScanOptions,
  enricher: Enricher,
  stdout: Writable,
  stderr: (text: string) => void,
  stdin: Readable,
  hooks: ScanHooks = {},
  pool?: ScanPool,
): Promise<ScanSummary> {
  const fileName = options.input === '-' ? '<stdin>' : options.input;
  const stream = options.input === '-' ? stdin : createReadStream(options.input, { highWaterMark: 1 << 20 });
  const counts = new Map<string, number>();
  const started = process.hrtime.bigint();
  const render: RenderOptions = { emit: options.emit, format: options.format, maxLineBytes: options.maxLineBytes, fileName, mining: hooks.unmatched?.options ?? null };
  const select = hooks.unmatched?.select;
  let lines = 0;
  let matched = 0;
  let weak = 0;
  let errors = 0;
  let out: (string | Uint8Array)[] = [];
  let outBytes = 0;

  const write = async (force: boolean): Promise<void> => {
    if (out.length === 0 || (!force && outBytes < 1 << 18)) return;
    const chunk = out.length === 1 ? out[0]! : out.every((c) => typeof c === 'string') ? out.join('') : Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    out = [];
    outBytes = 0;
    if (!stdout.write(chunk)) await once(stdout, 'drain');
  };

  /** Counts and writes a rendered batch (batches arrive here in input order). */
  const emit = async (r: RenderedBatch, seconds: number): Promise<void> => {
    for (const line of r.skipped) stderr(line);
    errors += r.skipped.length;
    lines += r.lines;
    weak += r.weak;
    matched += r.primaries.length;
    const primaries: MatchedSignature[] = [];
    for (const p of r.primaries) {
      const record = enricher.kb.heads[p]!;
      primaries.push(record);
      counts.set(record.id, (counts.get(record.id) ?? 0) + 1);
    }
    if (r.text.length > 0) {
      out.push(r.text);
      outBytes += r.text.length;
    }
    if (hooks.unmatched && r.unmatched && r.unmatched.seen > 0) hooks.unmatched.add(r.unmatched.seen, r.unmatched.texts);
    hooks.onBatch?.({ lines: r.lines - r.skipped.length, bytes: r.bytes, seconds, primaries, weak: r.weak, errors: r.skipped.length });
    await write(false);
  };

  // Batches in flight to the pool, oldest first; at most `maxInFlight`, so memory stays bounded and
  // a slow stdout (write() awaiting 'drain') stops the reading. The pool starts in the background
  // while this thread goes on rendering; a pool that cannot start is reported and the scan goes on here.
  const inFlight: { result: Promise<RenderedBatch>; t0: bigint }[] = [];
  const maxInFlight = 4;
  let renderer: BatchRenderer | null = null;
  let starting: Promise<void> | null = null;
  let batches = 0;
  const drainHead = async (): Promise<void> => {
    const head = inFlight.shift()!;
    const r = await head.result;
    await emit(r, Number(process.hrtime.bigint() - head.t0) / 1e9);
  };

  let inputs: MessageInput[] = [];
  const flush = async (): Promise<void> => {
    const batch = inputs;
    inputs = [];
    if (pool && !starting && batches >= pool.startAfterBatches) {
      starting = pool.start(render).then(
        (r) => {
          renderer = r;
        },
        (err: Error) => stderr(`logsift: scan worker threads could not start (${err.message}); scanning in one thread\n`),
      );
    }
    batches++;
    const t0 = process.hrtime.bigint();
    if (!renderer) {
      while (inFlight.length > 0) await drainHead();
      await emit(renderBatch(enricher, batch, render, select), Number(process.hrtime.bigint() - t0) / 1e9);
      return;
    }
    const result = (renderer as BatchRenderer).render(batch);
    result.catch(() => undefined); // awaited in order by drainHead
    inFlight.push({ result, t0 });
    while (inFlight.length >= maxInFlight) await drainHead();
  };

  try {
    for await (const items of readLines(stream, options.maxLineBytes)) {
      for (const item of items) {
        const source = { file: fileName, line: item.lineNo };
        inputs.push(item.kind === 'too-long' ? { value: null, size: item.size, source } : { value: item.bytes, source });
        if (inputs.length >= options.batchSize) await flush();
      }
    }
    if (inputs.length > 0 || batches === 0) await flush();
    while (inFlight.length > 0) await drainHead();
  } finally {
    await starting;
    if (renderer) await (renderer as BatchRenderer).close();
  }
  await write(true);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([id, count]) => ({ id, count }));
  return { lines, matched, weak, errors, seconds, top };
}
