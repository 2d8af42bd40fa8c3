import type { MinedText, UnmatchedMiner } from '../suggest/index.js';

/**
 * The daemon's hook for a chunk's unmatched messages: `seen` of them matched nothing, and `texts` are
 * those its mining selector chose (selected where the chunk was enriched). Mining is a side view: a
 * failure there is reported and never fails the chunk, whose events are already delivered.
 */
export function mineUnmatched(
  miner: Pick<UnmatchedMiner, 'addSelected' | 'templates'>,
  seen: number,
  texts: readonly MinedText[],
  mined: (errorLines: number, templates: number) => void,
  failed: (err: unknown) => void,
): void {
  try {
    mined(miner.addSelected(seen, texts), miner.templates);
  } catch (err) {
    failed(err);
  }
}
