/**
 * Shadow KB reporting: scans messages the live KB already enriched (and delivered) with a candidate
 * KB, and reports what would change as bounded metrics (no per-signature labels) and a rate-limited
 * log line. The output never depends on the shadow KB.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type OpenMetricsContentType, type Registry } from 'prom-client';

import type { EnrichedMessage, Enricher } from '../enrich/index.js';
import { diffBatch, summarize, type ShadowDiff, type ShadowSummary } from '../enrich/shadow.js';

export interface ShadowScannerOptions {
  /** The candidate KB's enricher (swappable: reloaded with the live one). */
  shadow: () => Enricher;
  registry: Registry<OpenMetricsContentType>;
  logger: Logger;
  /** Fraction of messages scanned, in [0, 1]. */
  sample: number;
  /** At most one diff log line per this many ms. Default 10 s. */
  logIntervalMs?: number;
  random?: () => number;
  now?: () => number;
}

/** A delivered message: its decoded text and the live result. */
export interface ShadowInput {
  text: string;
  live: EnrichedMessage;
  where: string;
}

export class ShadowScanner {
  readonly messages: Counter<'diff'>;
  readonly primaryChanges: Counter;
  readonly matchesGained: Counter;
  readonly matchesLost: Counter;
  readonly kbInfo: Gauge<'kb_version'>;
  private readonly random: () => number;
  private readonly now: () => number;
  private lastLog = -Infinity;
  private lastErrorLog = -Infinity;
  private sinceLog: ShadowSummary = { messages: 0, same: 0, primaryChanged: 0, matchesChanged: 0, gained: 0, lost: 0 };

  constructor(private readonly options: ShadowScannerOptions) {
    const registers = [options.registry as unknown as Registry];
    this.messages = new Counter({ name: 'logsift_shadow_messages_total', help: 'Messages scanned by the shadow KB, by difference from the live result (same, primary_changed, matches_changed).', labelNames: ['diff'] as const, registers });
    this.primaryChanges = new Counter({ name: 'logsift_shadow_primary_changes_total', help: 'Messages whose primary signature would change with the shadow KB.', registers });
    this.matchesGained = new Counter({ name: 'logsift_shadow_matches_gained_total', help: 'Matches (record ids) only the shadow KB finds.', registers });
    this.matchesLost = new Counter({ name: 'logsift_shadow_matches_lost_total', help: 'Matches (record ids) only the live KB finds.', registers });
    this.kbInfo = new Gauge({ name: 'logsift_shadow_knowledge_base_info', help: 'The shadow knowledge base (value 1), by content-hash version.', labelNames: ['kb_version'] as const, registers });
    for (const diff of ['same', 'primary_changed', 'matches_changed']) this.messages.inc({ diff }, 0);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.setKnowledgeBase(options.shadow().kb.version);
  }

  setKnowledgeBase(version: string): void {
    this.kbInfo.reset();
    this.kbInfo.set({ kb_version: version }, 1);
  }

  /** Runs {@link compare} on the sampled inputs after the current I/O callbacks, so delivery goes first. */
  schedule(inputs: readonly ShadowInput[]): void {
    const picked = this.options.sample >= 1 ? inputs : inputs.filter(() => this.random() < this.options.sample);
    if (picked.length > 0) setImmediate(() => this.compareSafely(picked));
  }

  /** A shadow failure must never reach the live path: logged (at most once per log interval), not thrown. */
  private compareSafely(inputs: readonly ShadowInput[]): void {
    try {
      this.compare(inputs);
    } catch (err) {
      const now = this.now();
      if (now - this.lastErrorLog < (this.options.logIntervalMs ?? 10_000)) return;
      this.lastErrorLog = now;
      this.options.logger.warn({ err, code: 'LOGSIFT_SHADOW' }, 'shadow KB scan failed; the live output is not affected');
    }
  }

  /** Scans `inputs` with the shadow KB, counts the differences and maybe logs one; returns them. */
  compare(inputs: readonly ShadowInput[]): ShadowDiff[] {
    const shadow = this.options.shadow().enrichBatch(inputs.map((i) => i.text), []);
    const diffs = diffBatch(inputs.map((i) => i.live), shadow);
    const s = summarize(diffs);
    this.messages.inc({ diff: 'same' }, s.same);
    this.messages.inc({ diff: 'primary_changed' }, s.primaryChanged);
    this.messages.inc({ diff: 'matches_changed' }, s.matchesChanged);
    this.primaryChanges.inc(s.primaryChanged);
    this.matchesGained.inc(s.gained);
    this.matchesLost.inc(s.lost);
    for (const k of Object.keys(s) as (keyof ShadowSummary)[]) this.sinceLog[k] += s[k];
    const i = diffs.findIndex((d) => d.kind !== 'same');
    const now = this.now();
    if (i >= 0 && now - this.lastLog >= (this.options.logIntervalMs ?? 10_000)) {
      this.lastLog = now;
      const d = diffs[i]!;
      this.options.logger.info({ shadow: { ...this.sinceLog }, example: { where: inputs[i]!.where, ...d } }, 'shadow KB would change results');
      this.sinceLog = { messages: 0, same: 0, primaryChanged: 0, matchesChanged: 0, gained: 0, lost: 0 };
    }
    return diffs;
  }
}
