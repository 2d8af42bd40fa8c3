import type { UnmatchedMiner } from '../suggest/index.js';

/**
 * The daemon's hook for a chunk's unmatched messages. Mining is a side view: a failure there is
 * reported and never fails the chunk, whose events are already delivered.
 */
export function mineUnmatched(
  miner: Pick<UnmatchedMiner, 'observe' | 'templates'>,
  raws: readonly string[],
  mined: (errorLines: number, templates: number) => void,
  failed: (err: unknown) => void,
): void {
  try {
    mined(miner.observe(raws), miner.templates);
  } catch (err) {
    failed(err);
  }
}
