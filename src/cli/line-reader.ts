/**
 * Splits a byte stream into lines without ever holding more than `maxLineBytes` of one line: a longer
 * line is reported (with its full size) and its bytes are dropped as they arrive. Lines come out a
 * stream chunk at a time (an array per chunk): one await per chunk, not per line.
 */
import type { Readable } from 'node:stream';

export type LineItem =
  | { kind: 'line'; lineNo: number; bytes: Buffer }
  | { kind: 'too-long'; lineNo: number; size: number };

export async function* readLines(stream: Readable, maxLineBytes: number): AsyncGenerator<LineItem[]> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let dropped = 0; // > 0 while skipping an over-long line
  let lineNo = 0;
  const finish = (tail: Buffer): LineItem => {
    lineNo++;
    if (dropped > 0 || partBytes + tail.length > maxLineBytes) {
      const size = dropped + partBytes + tail.length;
      parts = [];
      partBytes = 0;
      dropped = 0;
      return { kind: 'too-long', lineNo, size };
    }
    let bytes = parts.length === 0 ? tail : Buffer.concat([...parts, tail]);
    parts = [];
    partBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { kind: 'line', lineNo, bytes };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    const lines: LineItem[] = [];
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      lines.push(finish(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (lines.length > 0) yield lines;
    const rest = chunk.subarray(start);
    if (rest.length === 0) continue;
    if (dropped > 0 || partBytes + rest.length > maxLineBytes) {
      dropped += partBytes + rest.length;
      parts = [];
      partBytes = 0;
    } else {
      // Copy: the stream may reuse its chunk buffer.
      parts.push(Buffer.from(rest));
      partBytes += rest.length;
    }
  }
  if (partBytes > 0 || dropped > 0) yield [finish(Buffer.alloc(0))];
}
