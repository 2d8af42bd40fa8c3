/**
 * What the KB misses: unmatched messages → text (the same extraction as the enricher) → only the
 * error-looking ones → template miner. One instance per stream (scan run or daemon); pure and
 * synchronous, so the shells call it inline with the texts of a batch's unmatched messages.
 */
import { extractText, type InputFormat } from '../enrich/index.js';
import { draftRecord, type DraftRecord } from './draft.js';
import { ErrorLineClassifier, type ErrorLineOptions } from './error-lines.js';
import { TemplateMiner, maskLine, type TemplateMinerOptions, type TemplateView } from './templates.js';

export interface UnmatchedMinerOptions extends ErrorLineOptions, TemplateMinerOptions {
  fields: readonly string[];
  format: InputFormat;
}

export interface Suggestion extends TemplateView {
  draft: DraftRecord | null;
}

/** Characters of a message classified and mined: bounds the work per message (templates keep 64 tokens anyway). */
export const MAX_MINED_CHARS = 8192;

/** A text chosen for mining: cut to {@link MAX_MINED_CHARS}, and masked (`maskLine`) for the template miner. */
export interface MinedText {
  text: string;
  masked: string;
}

/**
 * The selection half of mining, pure and thread-agnostic: which extracted message texts are mined
 * (the error-looking ones), cut to {@link MAX_MINED_CHARS}, and their masked tokens. The daemon runs
 * it where the chunk was enriched (an enrichment worker, on the text it already extracted) and hands
 * only the selected texts, already masked, to the stream's one miner: the event loop keeps only the
 * template tree's update.
 */
export class ErrorTextSelector {
  private readonly classifier: ErrorLineClassifier;

  constructor(options: ErrorLineOptions = {}) {
    this.classifier = new ErrorLineClassifier(options);
  }

  /** The text to mine, or null when it does not look like an error. `log`: the parsed JSON log, if any. */
  select(text: string, log?: unknown): MinedText | null {
    const cut = text.length > MAX_MINED_CHARS ? text.slice(0, MAX_MINED_CHARS) : text;
    return this.classifier.test(cut, log) ? { text: cut, masked: maskLine(cut) } : null;
  }
}

/** Chooses an unmatched message's text to mine: the text (cut) and its masked form, or null. `log`: what extraction made of the message. */
export type MiningSelector = (text: string, log: unknown) => MinedText | null;

/** An {@link ErrorTextSelector} as a MiningSelector, made once per thread; undefined for null options (no mining). */
export function errorTextSelector(options: ErrorLineOptions | null): MiningSelector | undefined {
  if (options === null) return undefined;
  const selector = new ErrorTextSelector(options);
  return (text, log) => selector.select(text, log);
}

export class UnmatchedMiner {
  private readonly selector: ErrorTextSelector;
  private readonly miner: TemplateMiner;
  /** Unmatched messages seen, and the error-looking ones among them that were mined. */
  seen = 0;
  errorLines = 0;

  constructor(private readonly options: UnmatchedMinerOptions) {
    this.selector = new ErrorTextSelector(options);
    this.miner = new TemplateMiner(options);
  }

  /** The error-line options of this miner's selection: a selector made from them chooses as `observe` does. */
  get selection(): ErrorLineOptions {
    const { levels, keywords } = this.options;
    return { ...(levels !== undefined ? { levels } : {}), ...(keywords !== undefined ? { keywords } : {}) };
  }

  /** Mines the error-looking ones of these unmatched raw messages; returns how many were mined. */
  observe(raws: readonly string[]): number {
    let mined = 0;
    for (const raw of raws) {
      this.seen++;
      let text: string;
      let log: unknown;
      try {
        ({ text, log } = extractText(raw, this.options.fields, this.options.format));
      } catch {
        continue; // not JSON under format=json: dead-lettered by the pipeline, not a template
      }
      const selected = this.selector.select(text, log);
      if (selected === null) continue;
      this.miner.addMasked(selected.masked, selected.text);
      mined++;
    }
    this.errorLines += mined;
    return mined;
  }

  /**
   * Mines texts an {@link ErrorTextSelector} with this miner's options already chose, out of `seen`
   * unmatched messages; returns how many were mined.
   */
  addSelected(seen: number, texts: readonly MinedText[]): number {
    this.seen += seen;
    for (const t of texts) this.miner.addMasked(t.masked, t.text);
    this.errorLines += texts.length;
    return texts.length;
  }

  get templates(): number {
    return this.miner.size;
  }

  get evicted(): number {
    return this.miner.evicted;
  }

  /** The most frequent templates, each with a draft record (null when a more frequent one drafted the same regex). */
  top(n: number): Suggestion[] {
    const regexes = new Set<string>();
    return this.miner.top(n).map((t) => {
      const draft = draftRecord(t);
      if (!draft || regexes.has(draft.regex)) return { ...t, draft: null };
      regexes.add(draft.regex);
      return { ...t, draft };
    });
  }

  /** JSON view for GET /v1/unmatched and `kb suggest --format json`. */
  view(n: number): { unmatched_messages: number; error_lines: number; templates: number; evicted: number; top: Suggestion[] } {
    return { unmatched_messages: this.seen, error_lines: this.errorLines, templates: this.templates, evicted: this.evicted, top: this.top(n) };
  }
}

/** Text report: count, template, example, and the draft as one JSON line to paste into a KB file. */
export function formatSuggestions(suggestions: readonly Suggestion[]): string {
  const out: string[] = [];
  suggestions.forEach((s, i) => {
    out.push(`#${i + 1}  ${s.count} line(s)  ${s.template}`);
    out.push(`    e.g. ${s.example}`);
    out.push(s.draft ? `    draft: ${JSON.stringify(s.draft)}` : '    draft: none (no literal token, or a template above has the same regex)');
  });
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
