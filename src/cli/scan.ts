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
import type { MatchedSignature } from '../kafka/observer.js';
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
  onBatch?: (batch: { lines: number; bytes: number; seconds: number; primaries: MatchedSignature[]; errors: number }) => void;
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
): Promise<ScanSummary> {
  const fileName = options.input === '-' ? '<stdin>' : options.input;
  const stream = options.input === '-' ? stdin : createReadStream(options.input, { highWaterMark: 1 << 20 });
  const counts = new Map<string, number>();
  const started = process.hrtime.bigint();
  let lines = 0;
  let matched = 0;
  let errors = 0;
  let out: string[] = [];
  let outBytes = 0;

  const write = async (force: boolean): Promise<void> => {
    if (out.length === 0 || (!force && outBytes < 1 << 18)) return;
    const chunk = out.join('');
    out = [];
    outBytes = 0;
    if (!stdout.write(chunk)) await once(stdout, 'drain');
  };
  const emitError = (lineNo: number, code: string, message: string): void => {
    errors++;
    stderr(`logsift: ${fileName}:${lineNo}: ${message}; line skipped\n`);
    if (options.emit === 'all') {
      const e = { schema: 'logsift.error/v1', error: { code, message }, source: { file: fileName, line: lineNo } };
      out.push(`${JSON.stringify(e)}\n`);
    }
  };

  let texts: string[] = [];
  let sources: EventSource[] = [];
  let pendingErrors: { lineNo: number; code: string; message: string }[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    const t0 = process.hrtime.bigint();
    const results = texts.length > 0 ? enricher.enrichBatch(texts, sources) : [];
    const primaries: MatchedSignature[] = [];
    // Keep input order: errors and events are interleaved by line number.
    let ei = 0;
    for (const r of results) {
      const lineNo = (r.source as { line: number }).line;
      while (ei < pendingErrors.length && pendingErrors[ei]!.lineNo < lineNo) {
        const pe = pendingErrors[ei++]!;
        emitError(pe.lineNo, pe.code, pe.message);
      }
      lines++;
      if (r.matched) {
        matched++;
        const id = r.signatureId!;
        primaries.push(enricher.kb.records[r.ranked[0]!.index]!);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      if (r.matched || options.emit === 'all') {
        const s = options.format === 'text' ? formatText(r.event) : `${r.json()}\n`;
        out.push(s);
        outBytes += s.length;
      }
    }
    for (; ei < pendingErrors.length; ei++) emitError(pendingErrors[ei]!.lineNo, pendingErrors[ei]!.code, pendingErrors[ei]!.message);
    hooks.onBatch?.({ lines: texts.length, bytes: batchBytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9, primaries, errors: pendingErrors.length });
    lines += pendingErrors.length;
    texts = [];
    sources = [];
    pendingErrors = [];
    batchBytes = 0;
    await write(false);
  };

  for await (const item of readLines(stream, options.maxLineBytes)) {
    if (item.kind === 'too-long') {
      pendingErrors.push({ lineNo: item.lineNo, code: ErrorCodes.MESSAGE_TOO_LARGE, message: `line is ${item.size} bytes, over the ${options.maxLineBytes}-byte limit (--max-line-bytes)` });
    } else if (!isUtf8(item.bytes)) {
      const bad = firstInvalidUtf8(item.bytes);
      pendingErrors.push({ lineNo: item.lineNo, code: ErrorCodes.INVALID_UTF8, message: `invalid UTF-8 at byte ${bad}` });
    } else {
      texts.push(item.bytes.toString('utf8'));
      sources.push({ file: fileName, line: item.lineNo });
      batchBytes += item.bytes.length;
    }
    if (texts.length + pendingErrors.length >= options.batchSize) await flush();
  }
  await flush();
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
