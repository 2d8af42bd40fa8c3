/**
 * `logsift scan`: the embedded job, no Kafka. Lines in (file or stdin), one JSON event per line out,
 * in input order; a summary on stderr.
 */
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';

import type { Enricher, EventSource, InputFormat, LogsiftEvent } from '../enrich/index.js';
import { ErrorCodes } from '../errors.js';
import { readLines } from './line-reader.js';

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
  errors: number;
  seconds: number;
  top: { id: string; count: number }[];
}

export interface ScanHooks {
  /** Called per scanned batch (metrics): outcome counts and the ids of primary matches. */
  onBatch?: (batch: { lines: number; bytes: number; seconds: number; primaryIndexes: number[]; errors: number }) => void;
}

function formatText(e: LogsiftEvent): string {
  const where = 'line' in e.source ? `${e.source.line}` : '-';
  if (!e.signature_id) return `${where}\t-\n`;
  const others = e.matches.length > 1 ? ` (+${e.matches.length - 1} more: ${e.matches.slice(1, 4).join(', ')}${e.matches.length > 4 ? ', …' : ''})` : '';
  return `${where}\t${e.signature_id}${others}\n\troot cause: ${e.root_cause}\n\tworkarounds: ${e.workaround_ids.join(', ') || '-'}\n`;
}

/**
 * One batch's output: the emitted text (a string, or its UTF-8 bytes when it comes from a worker, so
 * the main thread neither copies nor encodes it), where each line's output ends, and its primary.
 */
export interface RenderedBatch {
  text: string | Buffer;
  /** `cuts[i]`: end of line i's output in `text`, in its units (unemitted lines add nothing). */
  cuts: Uint32Array;
  /** Primary record index per line, -1 when unmatched. */
  primary: Int32Array;
}

/** Scan, rank and encode one batch (in the main thread, or in a worker: the same code). */
export function renderBatch(enricher: Enricher, texts: readonly string[], sources: readonly EventSource[], emit: ScanOptions['emit'], format: ScanOptions['format']): RenderedBatch & { text: string } {
  const results = enricher.enrichBatch(texts, sources);
  const cuts = new Uint32Array(results.length);
  const primary = new Int32Array(results.length);
  let text = '';
  results.forEach((r, i) => {
    primary[i] = r.matched ? r.ranked[0]!.index : -1;
    if (r.matched || emit === 'all') text += format === 'text' ? formatText(r.event) : `${r.json()}\n`;
    cuts[i] = text.length;
  });
  return { text, cuts, primary };
}

/** The same batch as UTF-8 bytes with byte cuts (what a worker sends back). */
export function toBytes(r: RenderedBatch & { text: string }): RenderedBatch & { text: Buffer } {
  const bytes = Buffer.from(r.text, 'utf8');
  if (bytes.length !== r.text.length) {
    // Non-ASCII output: character cuts become byte cuts.
    let from = 0;
    let at = 0;
    for (let i = 0; i < r.cuts.length; i++) {
      const to = r.cuts[i]!;
      if (to > from) at += Buffer.byteLength(r.text.slice(from, to), 'utf8');
      from = to;
      r.cuts[i] = at;
    }
  }
  return { text: bytes, cuts: r.cuts, primary: r.primary };
}

/** Renders batches somewhere (worker threads); results come back per batch, in any order. */
export interface BatchRenderer {
  render(lines: readonly Buffer[], lineNumbers: readonly number[]): Promise<RenderedBatch>;
  close(): Promise<void>;
}

export interface ScanPool {
  /** Batches rendered in the main thread before the pool is started (small inputs never start it). */
  startAfterBatches: number;
  start(): Promise<BatchRenderer>;
}

interface Batch {
  lines: Buffer[];
  lineNumbers: number[];
  errors: { lineNo: number; code: string; message: string }[];
  bytes: number;
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
  let lines = 0;
  let matched = 0;
  let errors = 0;
  let out: (string | Buffer)[] = [];
  let outBytes = 0;
  let outBuffers = false;

  const write = async (force: boolean): Promise<void> => {
    if (out.length === 0 || (!force && outBytes < 1 << 18)) return;
    const chunk = !outBuffers ? out.join('') : out.length === 1 ? out[0]! : Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x)));
    out = [];
    outBytes = 0;
    outBuffers = false;
    if (!stdout.write(chunk)) await once(stdout, 'drain');
  };
  const push = (s: string | Buffer): void => {
    out.push(s);
    outBytes += s.length;
    if (typeof s !== 'string') outBuffers = true;
  };
  const emitError = (lineNo: number, code: string, message: string): void => {
    errors++;
    stderr(`logsift: ${fileName}:${lineNo}: ${message}; line skipped\n`);
    if (options.emit === 'all') {
      const e = { schema: 'logsift.error/v1', error: { code, message }, source: { file: fileName, line: lineNo } };
      push(`${JSON.stringify(e)}\n`);
    }
  };

  const renderHere = (b: Batch): RenderedBatch =>
    renderBatch(
      enricher,
      b.lines.map((l) => l.toString('utf8')),
      b.lineNumbers.map((line) => ({ file: fileName, line })),
      options.emit,
      options.format,
    );

  /** Writes a rendered batch in input order: errors and events interleaved by line number. */
  const emitBatch = async (b: Batch, r: RenderedBatch, seconds: number): Promise<void> => {
    const primaryIndexes: number[] = [];
    let ei = 0;
    let from = 0; // output of lines before `from` (in r.text) is written
    for (let i = 0; i < b.lineNumbers.length; i++) {
      const lineNo = b.lineNumbers[i]!;
      if (ei < b.errors.length && b.errors[ei]!.lineNo < lineNo) {
        const upto = i > 0 ? r.cuts[i - 1]! : 0;
        if (upto > from) push(typeof r.text === 'string' ? r.text.slice(from, upto) : r.text.subarray(from, upto));
        from = upto;
        while (ei < b.errors.length && b.errors[ei]!.lineNo < lineNo) {
          const pe = b.errors[ei++]!;
          emitError(pe.lineNo, pe.code, pe.message);
        }
      }
      lines++;
      const p = r.primary[i]!;
      if (p >= 0) {
        matched++;
        primaryIndexes.push(p);
        const id = enricher.kb.records[p]!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    if (r.text.length > from) push(from === 0 ? r.text : typeof r.text === 'string' ? r.text.slice(from) : r.text.subarray(from));
    for (; ei < b.errors.length; ei++) emitError(b.errors[ei]!.lineNo, b.errors[ei]!.code, b.errors[ei]!.message);
    hooks.onBatch?.({ lines: b.lineNumbers.length, bytes: b.bytes, seconds, primaryIndexes, errors: b.errors.length });
    lines += b.errors.length;
    await write(false);
  };

  // Batches in flight to the pool, oldest first; at most `2 × threads`-ish, so memory stays bounded
  // and a slow stdout (write() awaiting 'drain') stops the reading.
  const inFlight: { batch: Batch; result: Promise<RenderedBatch>; t0: bigint }[] = [];
  let renderer: BatchRenderer | null = null;
  let rendered = 0;
  const maxInFlight = 4;
  const drainHead = async (): Promise<void> => {
    const head = inFlight.shift()!;
    const r = await head.result;
    await emitBatch(head.batch, r, Number(process.hrtime.bigint() - head.t0) / 1e9);
  };
  // The pool starts in the background (workers load the KB and databases) while this thread goes on
  // rendering; batches go to the pool once it is ready. A pool that cannot start is reported and the
  // scan goes on here.
  let starting: Promise<void> | null = null;
  const flush = async (b: Batch): Promise<void> => {
    if (pool && !starting && rendered >= pool.startAfterBatches) {
      starting = pool.start().then(
        (r) => {
          renderer = r;
        },
        (err: Error) => stderr(`logsift: scan worker threads could not start (${err.message}); scanning in one thread\n`),
      );
    }
    rendered++;
    const t0 = process.hrtime.bigint();
    if (!renderer) {
      await emitBatch(b, b.lines.length > 0 ? renderHere(b) : { text: '', cuts: new Uint32Array(0), primary: new Int32Array(0) }, 0);
      return;
    }
    const result = renderer.render(b.lines, b.lineNumbers);
    result.catch(() => undefined); // awaited in order by drainHead
    inFlight.push({ batch: b, result, t0 });
    while (inFlight.length >= maxInFlight) await drainHead();
  };

  let batch: Batch = { lines: [], lineNumbers: [], errors: [], bytes: 0 };
  try {
    for await (const item of readLines(stream, options.maxLineBytes)) {
      if (item.kind === 'too-long') {
        batch.errors.push({ lineNo: item.lineNo, code: ErrorCodes.MESSAGE_TOO_LARGE, message: `line is ${item.size} bytes, over the ${options.maxLineBytes}-byte limit (--max-line-bytes)` });
      } else if (!isUtf8(item.bytes)) {
        const bad = firstInvalidUtf8(item.bytes);
        batch.errors.push({ lineNo: item.lineNo, code: ErrorCodes.INVALID_UTF8, message: `invalid UTF-8 at byte ${bad}` });
      } else {
        batch.lines.push(item.bytes);
        batch.lineNumbers.push(item.lineNo);
        batch.bytes += item.bytes.length;
      }
      if (batch.lines.length + batch.errors.length >= options.batchSize) {
        const full = batch;
        batch = { lines: [], lineNumbers: [], errors: [], bytes: 0 };
        await flush(full);
      }
    }
    await flush(batch);
    while (inFlight.length > 0) await drainHead();
  } finally {
    await starting;
    await (renderer as BatchRenderer | null)?.close();
  }
  await write(true);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([id, count]) => ({ id, count }));
  return { lines, matched, errors, seconds, top };
}

/** Byte offset of the first invalid UTF-8 sequence (for the error message), or -1. */
export function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    const extra = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (extra < 0 || i + extra >= bytes.length) return i;
    // isUtf8 on the one sequence also rejects overlong forms and surrogates.
    if (extra > 0 && !isUtf8(bytes.subarray(i, i + extra + 1))) return i;
    i += extra + 1;
  }
  return -1;
}
