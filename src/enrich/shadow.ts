/**
 * Shadow KB comparison, pure: the same message enriched by the live KB and by a candidate KB →
 * what would change. Records are compared by id (indexes differ between KBs).
 */
import type { EnrichedMessage } from './enricher.js';

/** `primary_changed` wins over `matches_changed` (same primary, different match set). */
export type ShadowDiffKind = 'same' | 'primary_changed' | 'matches_changed';

export interface ShadowDiff {
  kind: ShadowDiffKind;
  /** Live primary record id (null: unmatched). */
  from: string | null;
  /** Shadow primary record id (null: unmatched). */
  to: string | null;
  /** Record ids matched only by the shadow KB. */
  gained: string[];
  /** Record ids matched only by the live KB. */
  lost: string[];
}

export interface ShadowSummary {
  messages: number;
  same: number;
  primaryChanged: number;
  matchesChanged: number;
  gained: number;
  lost: number;
}

export function diffEnriched(live: Pick<EnrichedMessage, 'signatureId' | 'matchIds'>, shadow: Pick<EnrichedMessage, 'signatureId' | 'matchIds'>): ShadowDiff {
  const liveIds = new Set(live.matchIds);
  const shadowIds = new Set(shadow.matchIds);
  const gained = [...shadowIds].filter((id) => !liveIds.has(id)).sort();
  const lost = [...liveIds].filter((id) => !shadowIds.has(id)).sort();
  const from = live.signatureId;
  const to = shadow.signatureId;
  const kind: ShadowDiffKind = from !== to ? 'primary_changed' : gained.length > 0 || lost.length > 0 ? 'matches_changed' : 'same';
  return { kind, from, to, gained, lost };
}

/** Pairs `live[i]` with `shadow[i]`; the lists must be the same messages in the same order. */
export function diffBatch(live: readonly EnrichedMessage[], shadow: readonly EnrichedMessage[]): ShadowDiff[] {
  if (live.length !== shadow.length) throw new RangeError(`shadow diff: ${live.length} live vs ${shadow.length} shadow messages`);
  return live.map((l, i) => diffEnriched(l, shadow[i]!));
}

export function summarize(diffs: readonly ShadowDiff[]): ShadowSummary {
  const s: ShadowSummary = { messages: diffs.length, same: 0, primaryChanged: 0, matchesChanged: 0, gained: 0, lost: 0 };
  for (const d of diffs) {
    if (d.kind === 'same') s.same++;
    else if (d.kind === 'primary_changed') s.primaryChanged++;
    else s.matchesChanged++;
    s.gained += d.gained.length;
    s.lost += d.lost.length;
  }
  return s;
}
