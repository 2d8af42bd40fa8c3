/**
 * npm run bench:suggest — what template mining of unmatched error lines costs the daemon's per-chunk
 * work (phase 1 as a worker runs it: decode, extract, scan, rank, encode an event for every message,
 * and with mining the selection of error-looking unmatched texts; then the event loop's miner adding
 * them), side by side with the same work without mining, in one process, on the loghub lines (16
 * systems), for the starter KB (the default) and deadends.dev.
 */
import { DEFAULT_MESSAGE_FIELDS, Enricher } from '../src/enrich/index.js';
import { loadKnowledgeBase } from '../src/kb/index.js';
import { Matcher } from '../src/matcher/index.js';
import { enrichChunk, type InputMessage, type ProcessOptions } from '../src/kafka/index.js';
import { UnmatchedMiner, errorTextSelector, type MinedText } from '../src/suggest/index.js';
import { DEADENDS_RECORDS, STARTER_KB } from '../test/helpers/shared.js';
import { fmt, loghubLines, measure } from './common.js';

const CHUNK = 5000;

async function main(): Promise<void> {
  const lines = loghubLines();
  const chunks: InputMessage[][] = [];
  for (let i = 0; i < lines.length; i += CHUNK) {
    chunks.push(lines.slice(i, i + CHUNK).map((l, k) => ({ topic: 'in', partition: 0, offset: String(i + k), timestamp: null, key: null, value: Buffer.from(l), headers: {} })));
  }
  const options: ProcessOptions = { outputTopic: 'out', unmatchedTopic: 'unmatched', dlqTopic: 'dlq', key: 'input', format: 'auto', fields: DEFAULT_MESSAGE_FIELDS, maxMessageBytes: 1 << 20 };
  const select = errorTextSelector({});
  for (const [name, path] of [['starter KB', STARTER_KB], ['deadends.dev KB', DEADENDS_RECORDS]] as const) {
    const { kb } = await loadKnowledgeBase([path]);
    const enricher = new Enricher(kb, await Matcher.create(kb), { fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const miner = new UnmatchedMiner({ fields: DEFAULT_MESSAGE_FIELDS, format: 'auto' });
    const step = (mine: boolean): void => {
      for (const chunk of chunks) {
        const enriched = enrichChunk(chunk, enricher, options, false, mine ? select : undefined);
        if (!mine) continue;
        const texts: MinedText[] = [];
        for (const item of enriched.items) if (item.mined !== undefined) texts.push(item.mined);
        miner.addSelected(enriched.items.filter((item) => !item.matched).length, texts);
      }
    };
    const base = measure(lines.length, () => step(false), 3);
    const mined = measure(lines.length, () => step(true), 3);
    const alone = measure(lines.length, () => miner.observe(lines), 3);
    console.log(`${name} (${kb.size} records), ${fmt(lines.length)} loghub lines, chunks of ${CHUNK}:`);
    console.log(`  baseline enrich + encode:        ${fmt(base.perCore)} lines/s per core`);
    console.log(`  with template mining:            ${fmt(mined.perCore)} lines/s per core (${((100 * mined.perCore) / base.perCore).toFixed(1)}% of baseline)`);
    console.log(`  miner alone (every line offered): ${fmt(alone.perCore)} lines/s per core; ${miner.templates} templates, ${fmt(miner.errorLines)} error lines mined in all`);
  }
}

await main();
