/**
 * Which unmatched lines look like errors, so only they are mined into templates.
 *
 * A line is error-looking when it carries an error level or an error keyword:
 * - levels: whole words, case-sensitive (`ERROR`, not `error` in prose), also `level=error` /
 *   `"level":"error"` forms, klog headers (`E1123 12:34:56.789012 …`, `F…`), and a JSON log's
 *   `level` / `severity` / `levelname` / `log.level` field;
 * - keywords: case-insensitive, at the start of a word or of a camel-case part, so `error` finds
 *   `error`, `errors`, `IOError` and `ErrorCode`, and `exception` finds `NullPointerException`.
 */

/** Default levels. `panic` is Go's; `E`-prefixed klog headers are recognised on their own. */
export const DEFAULT_ERROR_LEVELS = ['ERROR', 'ERR', 'FATAL', 'CRITICAL', 'CRIT', 'SEVERE', 'EMERG', 'ALERT', 'PANIC', 'panic'] as const;

/** Default keywords. */
export const DEFAULT_ERROR_KEYWORDS = [
  'exception',
  'error',
  'failed',
  'failure',
  'fatal',
  'refused',
  'denied',
  'timeout',
  'timed out',
  'unable',
  'cannot',
  "can't",
  'could not',
  'unreachable',
  'traceback',
  'panic',
  'abort',
  'segfault',
] as const;

export interface ErrorLineOptions {
  levels?: readonly string[];
  keywords?: readonly string[];
}

const KLOG = /^[EF]\d{4} \d{2}:\d{2}:\d{2}/;
const LEVEL_FIELDS = ['level', 'severity', 'levelname', 'log.level', 'loglevel'] as const;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class ErrorLineClassifier {
  private readonly level: RegExp | null;
  private readonly levelKv: RegExp | null;
  /** The keywords, case-insensitive; word starts are checked per hit (a lookbehind per position is slower). */
  private readonly keyword: RegExp | null;
  private readonly levelSet: Set<string>;

  constructor(options: ErrorLineOptions = {}) {
    const levels = options.levels ?? DEFAULT_ERROR_LEVELS;
    const keywords = options.keywords ?? DEFAULT_ERROR_KEYWORDS;
    this.levelSet = new Set(levels.map((l) => l.toLowerCase()));
    this.level = levels.length > 0 ? new RegExp(`(?<![\\w])(?:${levels.map(escape).join('|')})(?![\\w])`) : null;
    this.levelKv = levels.length > 0 ? new RegExp(`\\b(?:level|severity|lvl)"?\\s*[=:]\\s*"?(?:${levels.map(escape).join('|')})\\b`, 'i') : null;
    this.keyword = keywords.length > 0 ? new RegExp(keywords.map(escape).join('|'), 'gi') : null;
  }

  /** A keyword hit counts at a word start (`error`, `errors`) or a camel-case start (`IOError`). */
  private hasKeyword(text: string): boolean {
    const re = this.keyword;
    if (!re) return false;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const i = m.index;
      const before = i > 0 ? text.charCodeAt(i - 1) : -1;
      if (!isWordChar(before)) return true;
      if (isLetter(before) && isUpper(text.charCodeAt(i))) return true;
      re.lastIndex = i + 1;
    }
    return false;
  }

  /** `log`: the parsed JSON object of a JSON log, for its level field. */
  test(text: string, log?: unknown): boolean {
    if (log !== null && typeof log === 'object' && !Array.isArray(log)) {
      const obj = log as Record<string, unknown>;
      for (const f of LEVEL_FIELDS) {
        const v = obj[f];
        if (typeof v === 'string' && this.levelSet.has(v.toLowerCase())) return true;
      }
    }
    if (KLOG.test(text)) return true;
    if (this.level?.test(text) || this.levelKv?.test(text)) return true;
    return this.hasKeyword(text);
  }
}

const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isWordChar = (c: number): boolean => isLetter(c) || (c >= 48 && c <= 57) || c === 95;
