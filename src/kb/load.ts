import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { z } from 'zod';

import { ErrorCodes, KbValidationError, LogsiftError } from '../errors.js';
import { canonToRecord, isCanon } from './canon.js';
import { listRecordFiles } from './files.js';
import { RecordSchema, type KbRecord } from './record.js';

export interface LoadedRecord {
  record: KbRecord;
  file: string;
  line: number;
}

export interface LoadResult {
  records: LoadedRecord[];
  /** Invalid records that were skipped (only when `allowInvalid`). */
  problems: LogsiftError[];
}

export interface LoadOptions {
  /** Skip invalid records and report them instead of failing the whole load. Default false. */
  allowInvalid?: boolean;
}


/** Where each top-level element of a JSON array starts (1-based line), without a second JSON parser. */
function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1 && c === '[') expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

function fieldPath(issue: z.core.$ZodIssue): string {
  return issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(record)';
}

function validate(raw: unknown, file: string, line: number): LoadedRecord | LogsiftError[] {
  const candidate = isCanon(raw) ? canonToRecord(raw) : raw;
  const parsed = RecordSchema.safeParse(candidate);
  if (parsed.success) return { record: parsed.data, file, line };
  return parsed.error.issues.map(
    (issue) =>
      new LogsiftError(ErrorCodes.KB_RECORD_INVALID, issue.message, { file, line, field: fieldPath(issue) }),
  );
}

/** Parses one file's text into raw records with their line numbers. */
export function parseRecordText(text: string, file: string): { raw: unknown; line: number }[] | LogsiftError {
  const trimmed = text.trimStart();
  const isJsonLines = extname(file) === '.jsonl' || extname(file) === '.ndjson';
  if (!isJsonLines) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return new LogsiftError(ErrorCodes.KB_PARSE, `not valid JSON: ${(err as Error).message}`, { file, line: 1, cause: err });
    }
    if (Array.isArray(value)) {
      const lines = arrayElementLines(text);
      return value.map((raw, i) => ({ raw, line: lines[i] ?? 1 }));
    }
    return [{ raw: value, line: text.length - trimmed.length > 0 ? text.slice(0, text.length - trimmed.length).split('\n').length : 1 }];
  }
  const out: { raw: unknown; line: number }[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.trim();
    if (row === '') continue;
    try {
      out.push({ raw: JSON.parse(row), line: i + 1 });
    } catch (err) {
      return new LogsiftError(ErrorCodes.KB_PARSE, `not valid JSON: ${(err as Error).message}`, { file, line: i + 1, cause: err });
    }
  }
  return out;
}

async function listFiles(path: string): Promise<string[]> {
  try {
    return await listRecordFiles(path);
  } catch (err) {
    throw new LogsiftError(ErrorCodes.KB_READ, `cannot read knowledge base path: ${(err as Error).message}`, { file: path, cause: err });
  }
}

/**
 * Loads records from JSON files (one record or an array), JSON Lines, deadends.dev canons, or
 * directory trees of them. Invalid records fail the load (all of them reported at once) unless
 * `allowInvalid`; duplicate ids always fail.
 */
export async function loadRecords(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const records: LoadedRecord[] = [];
  const problems: LogsiftError[] = [];
  for (const path of paths) {
    for (const file of await listFiles(path)) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new LogsiftError(ErrorCodes.KB_READ, `cannot read file: ${(err as Error).message}`, { file, cause: err });
      }
      const raws = parseRecordText(text, file);
      if (raws instanceof LogsiftError) {
        problems.push(raws);
        continue;
      }
      for (const { raw, line } of raws) {
        const result = validate(raw, file, line);
        if (Array.isArray(result)) problems.push(...result);
        else records.push(result);
      }
    }
  }
  const seen = new Map<string, LoadedRecord>();
  const duplicates: LogsiftError[] = [];
  for (const r of records) {
    const first = seen.get(r.record.id);
    if (first) {
      duplicates.push(
        new LogsiftError(ErrorCodes.KB_DUPLICATE_ID, `duplicate record id "${r.record.id}" (first defined at ${first.file}:${first.line})`, {
          file: r.file,
          line: r.line,
          field: 'id',
        }),
      );
    } else seen.set(r.record.id, r);
  }
  if (duplicates.length > 0) throw new KbValidationError([...duplicates, ...problems]);
  if (problems.length > 0 && !options.allowInvalid) throw new KbValidationError(problems);
  return { records, problems };
}
