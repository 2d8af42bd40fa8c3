/**
 * Message → text → matches → ranked → event, for a batch. Pure core: takes the matcher and the
 * knowledge base, returns events; no Kafka, logger, metrics or clock.
 */
import type { KnowledgeBase } from '../kb/index.js';
import type { Matcher } from '../matcher/index.js';
import { EventEncoder, buildEvent, type EventSource, type LogsiftEvent } from './event.js';
import { extractText, type InputFormat } from './extract.js';
import { buildSignatureIndex, primaryOf, rankMatches, type RankedMatch, type SignatureIndex } from './rank.js';

export interface EnrichOptions {
  fields: readonly string[];
  format: InputFormat;
  /**
   * Matches below this strength are weak: listed, never the primary. 0 = pure regex semantics.
   * Default {@link DEFAULT_MIN_STRENGTH}.
   */
  minStrength?: number;
}

/** The default `match.minStrength`, calibrated on the dev set (README: "Match strength"). */
export const DEFAULT_MIN_STRENGTH = 0.5;

/** One enriched message. The event object and its JSON are made on demand (hot path: only `json()`). */
export class EnrichedMessage {
  /** The primary match, or null when nothing matched or every match is weak. */
  readonly primary: RankedMatch | null;

  constructor(
    private readonly enricher: Enricher,
    readonly ranked: readonly RankedMatch[],
    readonly source: EventSource,
    readonly log: unknown,
  ) {
    this.primary = primaryOf(ranked, enricher.minStrength);
  }

  /** Has a primary: routed as matched, counted per signature. */
  get matched(): boolean {
    return this.primary !== null;
  }

  /** Matched only weakly: `matches` is not empty, but there is no primary. Routed as unmatched. */
  get weak(): boolean {
    return this.primary === null && this.ranked.length > 0;
  }

  /** Primary record id, or null. */
  get signatureId(): string | null {
    return this.primary ? this.enricher.kb.records[this.primary.index]!.id : null;
  }

  /** Record ids of every match, primary first (the event's `matches`). */
  get matchIds(): string[] {
    return this.ranked.map((m) => this.enricher.kb.records[m.index]!.id);
  }

  get event(): LogsiftEvent {
    return buildEvent(this.ranked, this.primary !== null, this.enricher.kb, this.source, this.log);
  }

  json(): string {
    return this.enricher.encoder.encode(this.ranked, this.primary !== null, this.source, this.log);
  }
}

export class Enricher {
  private readonly sigIndex: SignatureIndex;
  readonly encoder: EventEncoder;

  constructor(
    readonly kb: KnowledgeBase,
    readonly matcher: Matcher,
    private readonly options: EnrichOptions,
  ) {
    this.sigIndex = buildSignatureIndex(kb);
    this.encoder = new EventEncoder(kb);
  }

  get minStrength(): number {
    return this.options.minStrength ?? DEFAULT_MIN_STRENGTH;
  }

  /** Ranked record indexes with strengths for one text (used by the lookup API). */
  rankText(text: string): ReturnType<typeof rankMatches> {
    const [matches] = this.matcher.scan([text]);
    return rankMatches(text, matches!, this.kb, this.sigIndex, (i) => this.matcher.spanLength(i, text));
  }


  /**
   * Enriches a batch. `raw[i]` is the decoded message; JSON extraction may throw JsonRequiredError
   * for `format: 'json'`, so callers that need per-message errors use `extract` first.
   */
  enrichBatch(raw: readonly string[], sources: readonly EventSource[]): EnrichedMessage[] {
    const extracted = raw.map((r) => extractText(r, this.options.fields, this.options.format));
    return this.enrichExtracted(extracted, sources);
  }

  enrichExtracted(extracted: readonly { text: string; log: unknown }[], sources: readonly EventSource[]): EnrichedMessage[] {
    const results = this.matcher.scan(extracted.map((e) => e.text));
    return extracted.map((e, i) => {
      const matches = results[i]!;
      const ranked = matches.length === 0 ? [] : rankMatches(e.text, matches, this.kb, this.sigIndex, (idx) => this.matcher.spanLength(idx, e.text));
      return new EnrichedMessage(this, ranked, sources[i] ?? {}, e.log);
    });
  }
}
