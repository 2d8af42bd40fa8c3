/** Workaround and dead-end ids, apart from the zod schema so that a cached start does not load zod. */
import type { KbRecord } from './record.js';

/** Stable ids: the item's own `id`, else `<record id>#w<n>` / `#d<n>` (1-based). */
export function workaroundIds(record: KbRecord): string[] {
  return record.workarounds.map((w, i) => w.id ?? `${record.id}#w${i + 1}`);
}

export function deadEndIds(record: KbRecord): string[] {
  return record.dead_ends.map((d, i) => d.id ?? `${record.id}#d${i + 1}`);
}
