/**
 * Message → text → matches → ranked → event. Pure core: takes the matcher and the knowledge base,
 * returns outcomes; no Kafka, logger, metrics or clock.
 *
 * `process` is the one per-message path `logsift scan`, the daemon and `POST /v1/match` share: bytes
 * and a source in, exactly one outcome out per message (an event, unmatched, or poison with a code).
 * Every step runs under a per-message guard, and the steps that input can make expensive are bounded
 * (depth/size of serialization, a time budget for the exact engine), so no message can stall or
 * abort a batch.
 */
import { ErrorCodes } from '../errors.js';
import type { KnowledgeBase } from '../kb/index.js';
import { ExactBudgetError, type Matcher } from '../matcher/index.js';
import { LOG_BOUNDS, LOG_TRUNCATED_BOUNDS, boundedJson, boundedJsonOf, type JsonBounds } from './bounded.js';
import { decodeValue, type DecodeInput, type DecodeReason } from './decode.js';
import { EventEncoder, NO_LOG, buildEvent, type EventSource, type LogsiftEvent } from './event.js';
import type { EventContext } from './context.js';
import { JsonRequiredError, extractText, type Extracted, type InputFormat } from './extract.js';
import { buildSignatureIndex, primaryOf, rankMatches, type RankedMatch, type SignatureIndex } from './rank.js';

export interface EnrichOptions {
  fields: readonly string[];
  format: InputFormat;
  /**
   * Matches below this strength are weak: listed, never the primary. 0 = pure regex semantics.
   * Default {@link DEFAULT_MIN_STRENGTH}.
   */
  minStrength?: number;
  /**
   * The event's `log`: the original message within LOG_BOUNDS ('full', default), cut to
   * LOG_TRUNCATED_BOUNDS ('truncated', marked), or left out ('none': smaller events, no serialization).
   */
  includeLog?: IncludeLog;
}

export type IncludeLog = 'full' | 'truncated' | 'none';

/** The default `match.minStrength`, calibrated on the dev set (README: "Match strength"). */
export const DEFAULT_MIN_STRENGTH = 0.5;

/** Why a message is poison: the DLQ reason (`logsift.dlq.reason`) or the scan report's code. */
export type PoisonCode =
  | DecodeReason
  | typeof ErrorCodes.JSON_REQUIRED
  | typeof ErrorCodes.SCAN_FAILED
  | typeof ErrorCodes.CONFIRM_TIMEOUT
  | typeof ErrorCodes.MESSAGE_FAILED;

export interface MessageInput extends DecodeInput {
  source: EventSource;
  /**
   * Already decoded and extracted (one OTLP log record of a Kafka message): decode and extract are
   * skipped. `value` is then the whole message, for the size limit.
   */
  extracted?: Extracted;
}

export interface ProcessLimits {
  /** Larger values are poison (LOGSIFT_MESSAGE_TOO_LARGE). */
  maxMessageBytes: number;
  /** Names the unit in details: "value" (Kafka, default) or "line" (files). */
  noun?: string;
  /**
   * false: the caller emits no event for an unmatched message (scan --emit matched; the daemon without
   * an unmatched topic). Such outcomes then carry no JSON (`json` is ''), and a message whose matches
   * are all weak keeps them in strength order without the full ranking (scores, exact-engine spans):
   * the primary is the same either way (none). Default true.
   */
  unmatchedEvents?: boolean;
}

/**
 * `bytes`: the decoded bytes scanned (0 when decoding failed). `text`: the text that was scanned (a
 * JSON log's message fields) and `log` what extraction made of the message (the parsed JSON log, or
 * the raw text): what the shells' unmatched-message mining selects from without extracting again.
 */
export type Outcome =
  | { kind: 'event' | 'unmatched'; result: EnrichedMessage; json: string; bytes: number; text: string; log: unknown }
  | { kind: 'poison'; code: PoisonCode; detail: string; bytes: number };

/** One enriched message. `logJson` is the bounded JSON text of the event's `log` (see bounded.ts). */
export class EnrichedMessage {
  /** The primary match, or null when nothing matched or every match is weak. */
  readonly primary: RankedMatch | null;

  constructor(
    private readonly enricher: Enricher,
    readonly ranked: readonly RankedMatch[],
    readonly source: EventSource,
    readonly logJson: string,
    readonly context?: EventContext,
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
    return this.primary ? this.enricher.kb.heads[this.primary.index]!.id : null;
  }

  /** Record ids of every match, primary first (the event's `matches`). */
  get matchIds(): string[] {
    return this.ranked.map((m) => this.enricher.kb.heads[m.index]!.id);
  }

  get event(): LogsiftEvent {
    return buildEvent(this.ranked, this.primary !== null, this.enricher.kb, this.source, this.logJson === '' ? NO_LOG : (JSON.parse(this.logJson) as unknown), this.context);
  }

  json(): string {
    return this.enricher.encoder.encode(this.ranked, this.primary !== null, this.source, this.logJson, this.context);
  }
}

/** A message past decode and extract, on its way to scan and rank (one shape for all: no optional keys). */
interface Live {
  /** Its index in the inputs. */
  i: number;
  text: string;
  raw: string;
  log: unknown;
  json: boolean;
  bytes: number;
  context: EventContext | undefined;
}

/** The step a per-message failure happened in, for the detail of LOGSIFT_MESSAGE_FAILED. */
type Step = 'extract' | 'rank' | 'encode';

function failure(step: Step, err: unknown): { code: PoisonCode; detail: string } {
  if (err instanceof ExactBudgetError) return { code: ErrorCodes.CONFIRM_TIMEOUT, detail: err.message };
  return { code: ErrorCodes.MESSAGE_FAILED, detail: `${step}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` };
}

export class Enricher {
  private readonly sigIndex: SignatureIndex;
  readonly encoder: EventEncoder;
  /** Bounds of the event's `log`; null: no `log` (output.includeLog: false). */
  private readonly logBounds: JsonBounds | null;

  constructor(
    readonly kb: KnowledgeBase,
    readonly matcher: Matcher,
    private readonly options: EnrichOptions,
  ) {
    this.sigIndex = buildSignatureIndex(kb);
    this.encoder = new EventEncoder(kb);
    const include = options.includeLog ?? 'full';
    this.logBounds = include === 'none' ? null : include === 'truncated' ? LOG_TRUNCATED_BOUNDS : LOG_BOUNDS;
  }

  get minStrength(): number {
    return this.options.minStrength ?? DEFAULT_MIN_STRENGTH;
  }

  /** Ranked matches; the ranking's tie-break spans share one exact-engine budget per message. */
  /** `whole`: the whole message when `text` is only its message fields (a JSON log). */
  private rank(text: string, matches: readonly number[], orderWeak = true, whole?: string, allScores = false): RankedMatch[] {
    if (matches.length === 0) return [];
    const deadline = performance.now() + this.matcher.exact.budgetMs;
    return rankMatches(text, matches, this.kb, this.sigIndex, (indexes) => this.matcher.spanLengths(indexes, text, deadline), {
      minStrength: this.minStrength,
      skipWeakRanking: !orderWeak,
      allScores,
      ...(whole !== undefined ? { whole } : {}),
    });
  }

  /**
   * Ranked record indexes for one text (the lookup API). Throws ExactBudgetError
   * (LOGSIFT_CONFIRM_TIMEOUT) when the exact engine runs out of budget on it.
   */
  rankText(text: string): RankedMatch[] {
    const scan = this.matcher.scanChecked([text]);
    const undecided = scan.timeouts.get(0);
    if (undecided) throw new ExactBudgetError(undecided.map((i) => this.kb.heads[i]!.id), this.matcher.exact.budgetMs);
    return this.rank(text, scan.matches[0]!, true, undefined, true);
  }

  /**
   * The total per-message function: one outcome per input, in input order, whatever the input.
   * Decode, extract, scan (one native call for the batch), confirm, rank and encode each run under
   * a per-message guard; a failure makes that message poison with a code and the rest goes on.
   */
  process(inputs: readonly MessageInput[], limits: ProcessLimits): Outcome[] {
    const outcomes = new Array<Outcome>(inputs.length);
    const live: Live[] = [];
    inputs.forEach((input, i) => {
      if (input.extracted) {
        const e = input.extracted;
        live.push({ i, text: e.text, raw: e.text, log: e.log, json: e.json, bytes: 0, context: e.context });
        return;
      }
      const d = decodeValue(input, limits.maxMessageBytes, limits.noun);
      if ('reason' in d) {
        outcomes[i] = { kind: 'poison', code: d.reason, detail: d.detail, bytes: 0 };
        return;
      }
      const bytes = input.value!.length;
      try {
        const e = extractText(d.text, this.options.fields, this.options.format);
        live.push({ i, text: e.text, raw: d.text, log: e.log, json: e.json, bytes, context: e.context });
      } catch (err) {
        outcomes[i] =
          err instanceof JsonRequiredError
            ? { kind: 'poison', code: ErrorCodes.JSON_REQUIRED, detail: err.message, bytes }
            : { kind: 'poison', ...failure('extract', err), bytes };
      }
    });

    const unmatchedEvents = limits.unmatchedEvents ?? true;
    const scans = this.scanIsolated(live.map((l) => l.text));
    live.forEach((l, k) => {
      const s = scans[k]!;
      if ('detail' in s) {
        outcomes[l.i] = { kind: 'poison', code: s.code, detail: s.detail, bytes: l.bytes };
        return;
      }
      let step: Step = 'rank';
      try {
        const ranked = this.rank(l.text, s.matches, unmatchedEvents, l.raw !== l.text ? l.raw : undefined);
        step = 'encode';
        const strong = primaryOf(ranked, this.minStrength) !== null;
        const logJson = this.logBounds === null || (!unmatchedEvents && !strong) ? '' : l.json ? boundedJsonOf(l.log, l.raw, this.logBounds) : boundedJson(l.raw, this.logBounds);
        const result = new EnrichedMessage(this, ranked, inputs[l.i]!.source, logJson, l.context);
        outcomes[l.i] = { kind: result.matched ? 'event' : 'unmatched', result, json: result.matched || unmatchedEvents ? result.json() : '', bytes: l.bytes, text: l.text, log: l.log };
      } catch (err) {
        outcomes[l.i] = { kind: 'poison', ...failure(step, err), bytes: l.bytes };
      }
    });
    return outcomes;
  }

  /** One native scan for the batch; when it fails, each message alone, so only the bad one is poison. */
  private scanIsolated(texts: readonly string[]): ({ matches: readonly number[] } | { code: PoisonCode; detail: string })[] {
    if (texts.length === 0) return [];
    try {
      const scan = this.matcher.scanChecked(texts);
      return texts.map((_, k) => this.scanOutcome(scan.matches[k]!, scan.timeouts.get(k)));
    } catch {
      return texts.map((t) => {
        try {
          const scan = this.matcher.scanChecked([t]);
          return this.scanOutcome(scan.matches[0]!, scan.timeouts.get(0));
        } catch (err) {
          return { code: ErrorCodes.SCAN_FAILED, detail: (err as Error).message };
        }
      });
    }
  }

  private scanOutcome(matches: readonly number[], undecided: readonly number[] | undefined): { matches: readonly number[] } | { code: PoisonCode; detail: string } {
    if (!undecided) return { matches };
    return { code: ErrorCodes.CONFIRM_TIMEOUT, detail: new ExactBudgetError(undecided.map((i) => this.kb.heads[i]!.id), this.matcher.exact.budgetMs).message };
  }

  /** Convenience for tests and tools: texts (already decoded) in, enriched messages out; poison throws. */
  enrichBatch(raw: readonly string[], sources: readonly EventSource[]): EnrichedMessage[] {
    const outcomes = this.process(
      raw.map((r, i) => ({ value: Buffer.from(r, 'utf8'), source: sources[i] ?? {} })),
      { maxMessageBytes: Number.MAX_SAFE_INTEGER },
    );
    return outcomes.map((o) => {
      if (o.kind === 'poison') throw new Error(`${o.code}: ${o.detail}`);
      return o.result;
    });
  }
}
