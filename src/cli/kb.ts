/** `logsift kb check` and `logsift kb import`. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { KbValidationError, isLogsiftError } from '../errors.js';
import { KbFilter, canonToRecord, checkRedos, filterReport, isCanon, loadRecords, parseRecordText, KnowledgeBase, type KbFilterSpec } from '../kb/index.js';
import { cacheFile, cacheKey, defaultCacheDir, unicodeCacheFile, exactEngineRuns, loadNative, planPatterns, summarize } from '../matcher/index.js';
import { loadKbAndMatcher, stderrReporter, type Output } from './common.js';

/**
 * Prints each compile class and every non-native record with its reason, and with a filter what it
 * keeps and drops (counts by domain, and the term that dropped them), and the exact-engine records
 * prone to super-linear backtracking with the attack string (ReDoS lint, a warning: they run under
 * the per-message budget). Exit 1 on any invalid or rejected record, or when the filter keeps nothing.
 */
export async function kbCheck(paths: readonly string[], ignoreCase: boolean, io: Output, filterSpec: KbFilterSpec = {}): Promise<number> {
  let loaded;
  try {
    loaded = await loadRecords(paths, { allowInvalid: true });
  } catch (err) {
    if (err instanceof KbValidationError) {
      for (const p of err.problems) io.out(`invalid  ${p.location}: ${p.message}\n`);
      io.out(`${err.problems.length} problem(s); fix them and run again\n`);
      return 1;
    }
    throw err;
  }
  for (const p of loaded.problems) io.out(`invalid   ${p.location}: ${p.message}\n`);
  const invalid = new Set(loaded.problems.map((p) => `${p.file}:${p.line}`)).size;
  if (loaded.records.length === 0) {
    io.out('no valid records\n');
    return 1;
  }
  const filter = new KbFilter(filterSpec);
  let records = loaded.records;
  if (!filter.empty) {
    const { kept, dropped } = filter.apply(loaded.records);
    const report = filterReport(kept, dropped);
    io.out(`filter (${filter.describe()}): kept ${kept.length} of ${loaded.records.length} records, dropped ${dropped.length}\n`);
    for (const k of report.kept) io.out(`kept      ${k.domain}: ${k.count}\n`);
    for (const d of report.dropped) io.out(`dropped   ${d.domain}: ${d.count} (${d.reason})\n`);
    if (kept.length === 0) {
      io.out('the filter keeps no record\n');
      return 1;
    }
    records = kept;
  }
  const kb = new KnowledgeBase(records);
  const plan = await planPatterns(loadNative(), kb.records, { ignoreCase });
  const counts = summarize(plan);
  let redos = 0;
  for (const p of plan) {
    if (p.cls === 'native' && !p.reason) continue;
    const src = kb.sources[p.index]!;
    io.out(`${p.cls.padEnd(9)} ${p.id} (${src.file}:${src.line}): ${p.reason ?? ''}\n`);
    // The exact engine runs these on messages: flag the ones prone to super-linear backtracking.
    if (exactEngineRuns(p)) {
      const r = checkRedos({ source: p.js!, flags: p.jsFlags });
      if (r.status === 'vulnerable') {
        redos++;
        io.out(`redos     ${p.id} (${src.file}:${src.line}): ${r.complexity} backtracking in the exact engine; attack string: ${r.attack}; runs under the per-message budget\n`);
      }
    }
  }
  io.out(
    `${kb.size} records, ${kb.version}: native ${counts.native}, prefilter ${counts.prefilter}, ` +
      `fallback ${counts.fallback}, rejected ${counts.rejected}, invalid ${invalid}, redos ${redos}\n`,
  );
  return invalid > 0 || counts.rejected > 0 ? 1 : 0;
}

/** Converts deadends.dev canons (or seed records) to seed-schema JSON Lines on stdout. */
export async function kbImport(file: string, io: Output): Promise<number> {
  const parsed = parseRecordText(await readFile(file, 'utf8'), file);
  if (isLogsiftError(parsed)) {
    io.err(`logsift: ${parsed.location}: ${parsed.message}\n`);
    return 1;
  }
  for (const { raw } of parsed) io.out(`${JSON.stringify(isCanon(raw) ? canonToRecord(raw) : raw)}\n`);
  return 0;
}

/** Compiles the KB into the cache directory (for this host, or `portable` for any x86-64 host) and prints the file. */
export async function kbCompile(
  paths: readonly string[],
  options: { ignoreCase: boolean; portable: boolean; cacheDir: string | undefined },
  io: Output,
): Promise<number> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const { kb, matcher } = await loadKbAndMatcher(
    paths,
    // Both databases before returning: an image ships the Unicode one too.
    { allowInvalid: false, matcher: { ignoreCase: options.ignoreCase, cacheDir, portable: options.portable, prebuiltDirs: [], unicode: 'wait' } },
    stderrReporter(io),
  );
  matcher.close();
  const key = cacheKey(loadNative(), kb.records, options.ignoreCase, options.portable);
  const file = cacheFile(cacheDir, key);
  const unicodeFile = unicodeCacheFile(cacheDir, key);
  if (!existsSync(file)) {
    io.err(`logsift: the compiled database was not written to ${file}\n`);
    return 1;
  }
  io.out(`${file}\n`);
  if (!matcher.unicodeComplete) {
    io.err(`logsift: the Unicode database was not complete; non-ASCII messages will use the exact engine for some records\n`);
  } else if (existsSync(unicodeFile)) io.out(`${unicodeFile}\n`);
  io.err(`logsift: ${kb.size} records, ${kb.version}, ${matcher.info.databaseBytes} bytes${options.portable ? ', portable x86-64' : ''}\n`);
  return 0;
}
