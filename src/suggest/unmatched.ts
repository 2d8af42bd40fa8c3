/**
 * What the KB misses: unmatched messages → text (the same extraction as the enricher) → only the
 * error-looking ones → template miner. One instance per stream (scan run or daemon); pure and
 * synchronous, so the shells call it inline with the texts of a batch's unmatched messages.
 */
import { extractText, type InputFormat } from '../enrich/index.js';
import { draftRecord, type DraftRecord } from './draft.js';
import { ErrorLineClassifier, type ErrorLineOptions } from './error-lines.js';
import { TemplateMiner, type TemplateMinerOptions, type TemplateView } from './templates.js';

export interface UnmatchedMinerOptions extends ErrorLineOptions, TemplateMinerOptions {
  fields: readonly string[];
  format: InputFormat;
}

export interface Suggestion extends TemplateView {
  draft: DraftRecord | null;
}

/** Characters of a message classified and mined: bounds the work per message (templates keep 64 tokens anyway). */
export const MAX_MINED_CHARS = 8192;

export class UnmatchedMiner {
  private readonly classifier: ErrorLineClassifier;
  private readonly miner: TemplateMiner;
  /** Unmatched messages seen, and the error-looking ones among them that were mined. */
  seen = 0;
  errorLines = 0;

  constructor(private readonly options: UnmatchedMinerOptions) {
    this.classifier = new ErrorLineClassifier(options);
    this.miner = new TemplateMiner(options);
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
      if (text.length > MAX_MINED_CHARS) text = text.slice(0, MAX_MINED_CHARS);
      if (!this.classifier.test(text, log)) continue;
      this.miner.add(text);
      mined++;
    }
    this.errorLines += mined;
    return mined;
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
