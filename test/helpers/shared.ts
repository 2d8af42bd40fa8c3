/** Paths into ../shared (read-only data beside the repo) and a loader for the labelled lines. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = process.env['LOGSIFT_SHARED_DIR'] ?? resolve(REPO_ROOT, '..', 'shared');
export const DEADENDS_RECORDS = join(SHARED, 'kb', 'deadends.dev', 'records.jsonl');
export const DEADENDS_CANONS = join(SHARED, 'kb', 'deadends.dev', 'canons.jsonl');
export const DEV_LINES = join(SHARED, 'eval', 'dev-lines.jsonl');
export const LOGHUB_DIR = join(SHARED, 'logs', 'loghub-2k');
export const SEED_RECORD = join(SHARED, 'seeds', '001_df12179ee1e2be14.txt');
export const STARTER_KB = join(REPO_ROOT, 'data', 'kb');
/** Tests share one compiled-database cache: entries are keyed by content, so sharing is safe. */
export const TEST_CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'logsift-test');

export interface DevLine {
  line: string;
  matches: string[];
  source: string[];
}

export function hasShared(): boolean {
  return existsSync(DEADENDS_RECORDS) && existsSync(DEV_LINES);
}

export function readDevLines(): DevLine[] {
  return readFileSync(DEV_LINES, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DevLine);
}

/** A line of Python `re`'s answers, as the scripts/gen-*-fixture.py generators write them. */
export interface PythonAnswer {
  case: string;
  line: string;
  matches: string[];
}

/**
 * Python `re`'s answers from a generator in scripts/ (`python3 SCRIPT SHARED OUT`), made into the
 * test cache on first use and kept there by the hash of the script, the module it shares with the
 * other generators, the KB and the dev lines: lines derived from ../shared are never copied into the
 * repository. A generator takes 5–15 s.
 */
export function pythonAnswers(script: string): PythonAnswer[] {
  const path = join(REPO_ROOT, 'scripts', script);
  const h = createHash('sha256');
  for (const f of [path, join(REPO_ROOT, 'scripts', 'python_answers.py'), DEADENDS_RECORDS, DEV_LINES]) h.update(readFileSync(f));
  const out = join(TEST_CACHE_DIR, `${script.replace(/\.py$/, '')}-${h.digest('hex').slice(0, 16)}.jsonl`);
  if (!existsSync(out)) {
    mkdirSync(TEST_CACHE_DIR, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('python3', [path, SHARED, tmp], { stdio: 'pipe', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    renameSync(tmp, out);
  }
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as PythonAnswer);
}
