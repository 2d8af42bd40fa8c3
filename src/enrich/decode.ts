/**
 * The first step of the per-message path: bytes → text, or why the message is poison. Validates at the
 * edge, once: inside, text is valid UTF-8 and within the size limit.
 */
import { isUtf8 } from 'node:buffer';

import { ErrorCodes } from '../errors.js';

export type DecodeReason = typeof ErrorCodes.INVALID_UTF8 | typeof ErrorCodes.MESSAGE_TOO_LARGE | 'LOGSIFT_EMPTY_VALUE';

export interface DecodeInput {
  /** The message bytes; null for a Kafka tombstone. */
  value: Buffer | null;
  /** Byte length of a value the shell did not keep (a line over the limit is never buffered). */
  size?: number;
}

/** Byte offset of the first invalid UTF-8 sequence (for the error message), or -1. */
export function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    const extra = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (extra < 0 || i + extra >= bytes.length) return i;
    // isUtf8 on the one sequence also rejects overlong forms and surrogates.
    if (extra > 0 && !isUtf8(bytes.subarray(i, i + extra + 1))) return i;
    i += extra + 1;
  }
  return -1;
}

/** `noun` names the unit in details: "value" for Kafka messages, "line" for files. */
export function decodeValue(input: DecodeInput, maxBytes: number, noun = 'value'): { text: string } | { reason: DecodeReason; detail: string } {
  const size = input.value?.length ?? input.size;
  if (size !== undefined && size > maxBytes) {
    return { reason: ErrorCodes.MESSAGE_TOO_LARGE, detail: `${noun} is ${size} bytes, over the ${maxBytes}-byte limit` };
  }
  if (input.value === null) return { reason: 'LOGSIFT_EMPTY_VALUE', detail: 'message has no value (tombstone)' };
  if (!isUtf8(input.value)) return { reason: ErrorCodes.INVALID_UTF8, detail: `invalid UTF-8 at byte ${firstInvalidUtf8(input.value)}` };
  return { text: input.value.toString('utf8') };
}
