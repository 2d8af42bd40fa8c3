/**
 * Every logsift failure carries a stable `code` (never branch on message text), its `cause`, and the
 * fields a caller needs to decide: `retriable`, and where bad input came from (`file`, `line`, `field`).
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'LOGSIFT_CONFIG_INVALID',
  KB_READ: 'LOGSIFT_KB_READ',
  KB_PARSE: 'LOGSIFT_KB_PARSE',
  KB_RECORD_INVALID: 'LOGSIFT_KB_RECORD_INVALID',
  KB_DUPLICATE_ID: 'LOGSIFT_KB_DUPLICATE_ID',
  KB_EMPTY: 'LOGSIFT_KB_EMPTY',
  NATIVE_MISSING: 'LOGSIFT_NATIVE_MISSING',
  NATIVE_INCOMPATIBLE: 'LOGSIFT_NATIVE_INCOMPATIBLE',
  COMPILE_FAILED: 'LOGSIFT_COMPILE_FAILED',
  SCAN_FAILED: 'LOGSIFT_SCAN_FAILED',
  /** The exact engine ran out of its per-message time budget (see matcher/exact-engine.ts). */
  CONFIRM_TIMEOUT: 'LOGSIFT_CONFIRM_TIMEOUT',
  /** A per-message step (extract, rank, encode, record) threw; the detail names the step. */
  MESSAGE_FAILED: 'LOGSIFT_MESSAGE_FAILED',
  INPUT_READ: 'LOGSIFT_INPUT_READ',
  INVALID_UTF8: 'LOGSIFT_INVALID_UTF8',
  MESSAGE_TOO_LARGE: 'LOGSIFT_MESSAGE_TOO_LARGE',
  JSON_REQUIRED: 'LOGSIFT_JSON_REQUIRED',
  OTLP_INVALID: 'LOGSIFT_OTLP_INVALID',
  KAFKA: 'LOGSIFT_KAFKA',
  FENCED: 'LOGSIFT_FENCED',
  USAGE: 'LOGSIFT_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface LogsiftErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  file?: string;
  line?: number;
  field?: string;
}

export class LogsiftError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, options: LogsiftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LogsiftError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    if (options.file !== undefined) this.file = options.file;
    if (options.line !== undefined) this.line = options.line;
    if (options.field !== undefined) this.field = options.field;
  }

  /** `file:line: field: message`, the form editors and CI annotators understand. */
  get location(): string {
    const where = [this.file, this.line].filter((x) => x !== undefined).join(':');
    return [where, this.field].filter((x) => x !== undefined && x !== '').join(': ');
  }
}

/** Several record errors at once, so one run shows every bad record, not only the first. */
export class KbValidationError extends LogsiftError {
  readonly problems: readonly LogsiftError[];
  constructor(problems: readonly LogsiftError[]) {
    super(
      problems[0]?.code ?? ErrorCodes.KB_RECORD_INVALID,
      `${problems.length} invalid knowledge-base record(s):\n` +
        problems.map((p) => `  ${p.location}: ${p.message}`).join('\n'),
    );
    this.name = 'KbValidationError';
    this.problems = problems;
  }
}

export function isLogsiftError(err: unknown): err is LogsiftError {
  return err instanceof LogsiftError;
}
