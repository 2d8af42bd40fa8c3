/**
 * How the default match.minStrength was chosen (README, "Match strength"): for each threshold, the
 * share of dev background lines (real logs, `source: []`) that get a primary, the share of source
 * lines whose source record is the primary, the same background share on the loghub lines, and the
 * hand-labelled real-world errors of test/fixtures/wild-errors.jsonl that keep their right primary.
 *   node --import tsx scripts/calibrate-strength.ts
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../src/enrich/index.js';
import { loadKnowledgeBase } from '../src/kb/index.js';
import { Matcher } from '../src/matcher/index.js';
import { DEADENDS_RECORDS, LOGHUB_DIR, REPO_ROOT, TEST_CACHE_DIR, readDevLines } from '../test/helpers/shared.js';

const { kb } = await loadKnowledgeBase([DEADENDS_RECORDS]);
const matcher = await Matcher.create(kb, { cacheDir: TEST_CACHE_DIR });
const dev = readDevLines();
const background = dev.filter((l) => l.source.length === 0);
const sourced = dev.filter((l) => l.source.some((s) => l.matches.includes(s)));
const loghub = readdirSync(LOGHUB_DIR).filter((f) => f.endsWith('.log')).flatMap((f) => readFileSync(join(LOGHUB_DIR, f), 'utf8').split('\n').filter((l) => l !== ''));
const wild = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'wild-errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: string; expect: string[] });
const labelled = wild.filter((w) => w.expect.length > 0);

const pct = (n: number, d: number): string => `${((100 * n) / d).toFixed(2)}%`;
console.log('| min strength | dev background with a primary | dev source lines, source record primary | loghub lines with a primary | real-world errors, right primary | real-world errors, wrong primary |');
console.log('|---|---|---|---|---|---|');
for (const t of [0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8]) {
  const e = new Enricher(kb, matcher, { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto', minStrength: t });
  const run = (ls: string[]): (string | null)[] => e.enrichBatch(ls, ls.map(() => ({}))).map((r) => r.signatureId);
  const bg = run(background.map((l) => l.line)).filter((s) => s !== null).length;
  const src = run(sourced.map((l) => l.line)).filter((s, i) => s !== null && sourced[i]!.source.includes(s)).length;
  const lh = run(loghub).filter((s) => s !== null).length;
  const w = run(wild.map((x) => x.line));
  const right = w.filter((s, i) => s !== null && wild[i]!.expect.includes(s)).length;
  const wrong = w.filter((s, i) => s !== null && !wild[i]!.expect.includes(s)).length;
  console.log(`| ${t} | ${pct(bg, background.length)} | ${pct(src, sourced.length)} | ${pct(lh, loghub.length)} | ${right}/${labelled.length} | ${wrong}/${wild.length} |`);
}
