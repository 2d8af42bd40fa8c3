/**
 * `logsift scan`: the embedded job, no Kafka. Lines in (file or stdin), one JSON event per line out,
 * in input order; a summary on stderr.
 */
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';

import type { Enricher, FileSource, InputFormat, LogsiftEvent, MessageInput } from '../enrich/index.js';
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
  /** Lines whose matches were all weak (below --min-strength): no primary, not in `matched`. */
  weak: number;
  errors: number;
  seconds: number;
  top: { id: string; count: number }[];
}

export interface ScanHooks {
  /** Called per scanned batch (metrics): outcome counts and the ids of primary matches. */
  onBatch?: (batch: { lines: number; bytes: number; seconds: number; primaries: MatchedSignature[]; weak: number; errors: number }) => void;
  /** Called per batch with the lines that matched nothing (`--suggest` mines them). */
  onUnmatched?: (lines: string[]) => void;
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
  let weak = 0;
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

  let inputs: MessageInput[] = [];
  const flush = async (): Promise<void> => {
    const t0 = process.hrtime.bigint();
    // The one per-message path (Enricher.process): exactly one outcome per line, in input order.
    const outcomes = inputs.length > 0 ? enricher.process(inputs, { maxMessageBytes: options.maxLineBytes, noun: 'line' }) : [];
    const primaries: MatchedSignature[] = [];
    let weakLines = 0;
    let batchBytes = 0;
    let batchErrors = 0;
    const unmatchedLines: string[] = [];
    outcomes.forEach((o, k) => {
      const lineNo = (inputs[k]!.source as FileSource).line;
      if (o.kind === 'poison') {
        batchErrors++;
        emitError(lineNo, o.code, o.code === ErrorCodes.MESSAGE_TOO_LARGE ? `${o.detail} (--max-line-bytes)` : o.detail);
        return;
      }
      batchBytes += o.bytes;
      const r = o.result;
      if (r.weak) {
        weak++;
        weakLines++;
      }
      if (!r.matched && hooks.onUnmatched) unmatchedLines.push(inputs[k]!.value!.toString('utf8'));
      if (r.matched) {
        matched++;
        const id = r.signatureId!;
        primaries.push(enricher.kb.records[r.primary!.index]!);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      if (r.matched || options.emit === 'all') {
        const s = options.format === 'text' ? formatText(r.event) : `${o.json}\n`;
        out.push(s);
        outBytes += s.length;
      }
    });
    lines += outcomes.length;
    if (hooks.onUnmatched && unmatchedLines.length > 0) hooks.onUnmatched(unmatchedLines);
    hooks.onBatch?.({ lines: outcomes.length - batchErrors, bytes: batchBytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9, primaries, weak: weakLines, errors: batchErrors });
    inputs = [];
    await write(false);
  };

  for await (const item of readLines(stream, options.maxLineBytes)) {
    const source = { file: fileName, line: item.lineNo };
    inputs.push(item.kind === 'too-long' ? { value: null, size: item.size, source } : { value: item.bytes, source });
    if (inputs.length >= options.batchSize) await flush();
  }
  await flush();
  await write(true);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([id, count]) => ({ id, count }));
  return { lines, matched, weak, errors, seconds, top };
}
