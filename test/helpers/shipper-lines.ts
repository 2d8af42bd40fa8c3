/**
 * Lines for shipper tests: single-line positive examples of the starter KB (data/kb), with the
 * record they come from, and benign lines no record matches.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { STARTER_KB } from './shared.js';

export interface ShipperLine {
  text: string;
  /** The starter record whose example this is; null for a benign line. */
  record: string | null;
}

export const BENIGN_LINES = ['GET /healthz 200 0.4ms', 'worker 3 started, 12 jobs queued', 'cache warmed: 4096 keys in 210 ms', 'user 42 logged in from 10.0.0.7'];

/** `perRecord` single-line examples of every `step`-th starter record, then the benign lines. */
export function starterLines(step = 1): ShipperLine[] {
  const out: ShipperLine[] = [];
  let i = 0;
  for (const f of readdirSync(STARTER_KB).filter((x) => x.endsWith('.json')).sort()) {
    for (const r of JSON.parse(readFileSync(join(STARTER_KB, f), 'utf8')) as { id: string; examples?: { match?: string[] } }[]) {
      const example = r.examples?.match?.find((l) => !l.includes('\n'));
      if (example !== undefined && i++ % step === 0) out.push({ text: example, record: r.id });
    }
  }
  return [...out, ...BENIGN_LINES.map((text) => ({ text, record: null }))];
}
