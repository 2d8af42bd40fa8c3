/** `logsift kb lint` and `logsift kb suggest` (their KB-load flags: kb-flags.ts). */
import { Writable } from 'node:stream';

import { readBackground } from '../app/index.js';
import { DEFAULT_MESSAGE_FIELDS, Enricher, type InputFormat } from '../enrich/index.js';
import { KbValidationError, type LogsiftError } from '../errors.js';
import { ExactBudgetError } from '../matcher/index.js';
import { DEFAULT_MAX_BACKGROUND_RATE, formatLintText, lintKnowledgeBase, type LintCheck } from '../kb/lint.js';
import { UnmatchedMiner, errorTextSelector, formatSuggestions } from '../suggest/index.js';
import { DEFAULT_KB, UsageError, loadKbAndMatcher, stderrReporter, type Io } from './common.js';
import { kbLoadOptions, shareFlag, type KbLoadFlagValues } from './kb-flags.js';
import { DEFAULT_BATCH_LINES, runScan, type ScanHooks } from './scan.js';

/** `logsift kb lint`: exit 1 only when some finding is an error (invalid, rejected, empty). */
export async function kbLint(
  values: KbLoadFlagValues & { background?: string[] | undefined; format?: string | undefined; 'max-background-rate'?: string | undefined },
  io: Io,
  checks: readonly LintCheck[] = [],
): Promise<number> {
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json (got "${format}")`);
  const maxBackgroundRate = shareFlag('max-background-rate', values['max-background-rate'], DEFAULT_MAX_BACKGROUND_RATE);
  const background = await readBackground(values.background ?? []);
  const invalid: LogsiftError[] = [];
  const reporter = { ...stderrReporter(io), skipped: (p: LogsiftError) => invalid.push(p) };
  let loaded;
  try {
    loaded = await loadKbAndMatcher(values.kb ?? [DEFAULT_KB], kbLoadOptions({ ...values, 'allow-invalid-records': true }), reporter);
  } catch (err) {
    if (!(err instanceof KbValidationError)) throw err;
    // Duplicate ids fail every load: report them as lint errors.
    const findings = err.problems.map((p) => ({ id: p.location, kind: 'invalid', severity: 'error', message: p.message, evidence: { code: p.code } }));
    io.out(format === 'json' ? `${JSON.stringify({ findings, errors: findings.length, warnings: 0 })}\n` : findings.map((f) => `error   invalid   ${f.id}: ${f.message}\n`).join(''));
    return 1;
  }
  const { kb, matcher } = loaded;
  const enricher = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'raw' });
  const report = lintKnowledgeBase({
    kb,
    matcher,
    background,
    // A text the exact engine cannot decide within its budget is left out of the shadowing evidence.
    rank: (text) => {
      try {
        return enricher.rankText(text).map((m) => m.index);
      } catch (err) {
        if (err instanceof ExactBudgetError) return [];
        throw err;
      }
    },
    invalid,
    extra: checks.flatMap((check) => check(kb)),
    options: { maxBackgroundRate },
  });
  if (format === 'json') {
    const { kbVersion, backgroundLines, maxBackgroundRate: r, ...rest } = report;
    io.out(`${JSON.stringify({ kb_version: kbVersion, background_lines: backgroundLines, max_background_rate: r, ...rest })}\n`);
  } else io.out(formatLintText(report));
  return report.errors > 0 ? 1 : 0;
}

export interface SuggestFlagValues extends KbLoadFlagValues {
  input?: string | undefined;
  top?: string | undefined;
  format?: string | undefined;
  'input-format'?: string | undefined;
  fields?: string | undefined;
}

export function minerFor(fields: readonly string[], format: InputFormat): UnmatchedMiner {
  return new UnmatchedMiner({ fields, format });
}

/** `runScan`'s mining hook for this miner: the same selection on every thread, the texts added here. */
export function scanMining(miner: UnmatchedMiner): NonNullable<ScanHooks['unmatched']> {
  const options = miner.selection;
  return { options, select: errorTextSelector(options)!, add: (seen, texts) => miner.addSelected(seen, texts) };
}

/**
 * `logsift kb suggest --input FILE`: scans FILE against the KB and prints the top templates of its
 * unmatched error lines: `text` (count, template, example, draft), `json` (the /v1/unmatched view),
 * or `records` (the drafts alone, as seed-format JSON Lines for a KB file).
 */
export async function kbSuggest(values: SuggestFlagValues, io: Io, top: number): Promise<number> {
  const format = values.format ?? 'text';
  if (!['text', 'json', 'records'].includes(format)) throw new UsageError(`--format must be text, json or records (got "${format}")`);
  if (!values.input) throw new UsageError('logsift kb suggest --input FILE');
  const inputFormat = (values['input-format'] ?? 'auto') as InputFormat;
  if (!['auto', 'raw', 'json'].includes(inputFormat)) throw new UsageError(`--input-format must be auto, raw or json (got "${inputFormat}")`);
  const fields = values.fields ? values.fields.split(',').map((f) => f.trim()).filter(Boolean) : [...DEFAULT_MESSAGE_FIELDS];
  const { kb, matcher } = await loadKbAndMatcher(values.kb ?? [DEFAULT_KB], kbLoadOptions(values), stderrReporter(io));
  const enricher = new Enricher(kb, matcher, { fields, format: inputFormat });
  const miner = minerFor(fields, inputFormat);
  const discard = new Writable({ write: (_c, _e, cb) => cb() });
  await runScan(
    { input: values.input, emit: 'matched', format: 'json', inputFormat, fields, maxLineBytes: 1 << 20, batchSize: DEFAULT_BATCH_LINES },
    enricher,
    discard,
    io.err,
    io.stdin,
    { unmatched: scanMining(miner) },
  );
  if (format === 'json') io.out(`${JSON.stringify(miner.view(top))}\n`);
  else if (format === 'records') {
    for (const s of miner.top(top)) if (s.draft) io.out(`${JSON.stringify(s.draft)}\n`);
  } else {
    io.out(`${miner.errorLines} unmatched error line(s) of ${miner.seen} unmatched, ${miner.templates} template(s); top ${Math.min(top, miner.templates)}:\n`);
    io.out(formatSuggestions(miner.top(top)));
  }
  return 0;
}
