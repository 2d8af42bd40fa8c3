/**
 * kafkajs as src/kafka/kafkajs.ts loads it: the native CRC-32C its record-batch encoder uses gives
 * kafkajs's own JavaScript checksum on every length and alignment, and its pooled protocol encoder
 * writes the bytes the original does; a record batch round-trips through kafkajs's decoder; its
 * request queue arms a check only while requests wait (kafkajs's timing then), with no 1 ms idle loop
 * and no TimeoutNegativeWarning.
 */
import { createRequire } from 'node:module';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { nativeCrc32c, quietRequestQueue, pooledEncoder } from '../../../src/kafka/kafkajs.js';
import { loadNative } from '../../../src/matcher/native.js';

const require = createRequire(import.meta.url);
/** kafkajs's checksum, its raw form (signed) from the file the daemon no longer calls. */
const jsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;

describe('native CRC-32C for kafkajs', () => {
  it('equals kafkajs’s checksum on every length and alignment', () => {
    const crc32c = loadNative().crc32c;
    let seed = 7;
    const data = Buffer.from(Array.from({ length: 70_000 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff));
    for (const [start, length] of [[0, 0], [0, 1], [1, 7], [3, 8], [5, 9], [0, 64], [7, 1000], [11, 65_536]] as const) {
      const b = data.subarray(start, start + length);
      expect(crc32c(b)).toBe(jsCrc(b) >>> 0);
    }
    // The standard check value of CRC-32C.
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('is what kafkajs’s record-batch encoder calls', () => {
    expect(nativeCrc32c).toBe(true);
    const encoderCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as unknown;
    expect(encoderCrc).toBe(loadNative().crc32c);
  });
});

type Enc = { buffer: Buffer } & Record<string, (...a: unknown[]) => Enc>;

describe('pooled protocol encoder', () => {
  it('writes what the original encoder writes, growing from any size', () => {
    expect(pooledEncoder).toBe(true);
    const Pooled = require('kafkajs/src/protocol/encoder.js') as new (n?: number) => Enc;
    const Original = Object.getPrototypeOf(Pooled) as new (n?: number) => Enc;
    expect(Original).not.toBe(Pooled);
    const script = (e: Enc): Buffer => {
      e.writeInt8!(-3).writeInt16!(513).writeInt32!(-70_000).writeInt64!('9007199254740993').writeBoolean!(true);
      e.writeString!('héllo').writeVarIntString!('x'.repeat(700)).writeBytes!(Buffer.alloc(2000, 7)).writeVarIntBytes!('ünïcode');
      e.writeVarInt!(-12345).writeUVarInt!(300).writeVarLong!(-5).writeUVarIntBytes!(Buffer.from('tail')).writeNullableString?.(null);
      e.writeEncoder!(new Original().writeInt32!(42));
      return e.buffer;
    };
    for (const size of [undefined, 0, 1, 4096]) expect(script(new Pooled(size))).toEqual(script(new Original(size)));
    expect(new Pooled()).toBeInstanceOf(Original);
  });

  it('encodes record batches that kafkajs decodes back, headers and all', async () => {
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => unknown;
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
    const decode = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> }[] }>;
    const records = Array.from({ length: 50 }, (_, i) => Record({ offsetDelta: i, key: i % 2 ? Buffer.from(`k${i}`) : null, value: Buffer.from(`{"event":${i},"log":"${'é'.repeat(i * 20)}"}`), headers: { 'logsift.source.offset': String(i), 'logsift.kb.version': 'kb-1' } }));
    const batch = await RecordBatch({ records, firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_000 });
    const decoded = await decode(new Decoder(batch.buffer));
    expect(decoded.records.map((r) => [r.key?.toString() ?? null, r.value.toString(), r.headers['logsift.source.offset']!.toString()])).toEqual(
      Array.from({ length: 50 }, (_, i) => [i % 2 ? `k${i}` : null, `{"event":${i},"log":"${'é'.repeat(i * 20)}"}`, String(i)]),
    );
    // The checksum field (after baseOffset, length, leaderEpoch, magic) is the CRC-32C of the rest.
    const crcAt = 8 + 4 + 4 + 1;
    expect(batch.buffer.readUInt32BE(crcAt)).toBe(jsCrc(batch.buffer.subarray(crcAt + 4)) >>> 0);
  });
});

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  push(r: { entry: object; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: null; size: number }): void;
  checkPendingRequests(): void;
  destroy(): void;
}

describe('kafkajs request queue, quiet', () => {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => Queue;
  const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const queue = (maxInFlightRequests: number | null) =>
    new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b:9092', logger });
  const sent: number[] = [];
  const request = (q: Queue, correlationId: number) =>
    q.push({
      entry: { correlationId, apiKey: 0, apiName: 'Produce', apiVersion: 3, resolve: () => {}, reject: () => {} },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
  afterEach(() => {
    vi.useRealTimers();
    sent.length = 0;
  });

  it('is installed', () => expect(quietRequestQueue).toBe(true));

  it('arms no check while nothing waits: no 1 ms idle loop, no TimeoutNegativeWarning (kafkajs issue #1751)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const q = queue(null);
    let checks = 0;
    const check = q.checkPendingRequests.bind(q);
    q.checkPendingRequests = () => {
      checks++;
      check();
    };
    q.checkPendingRequests();
    await new Promise((r) => setTimeout(r, 30));
    q.destroy();
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w === 'TimeoutNegativeWarning')).toEqual([]);
    // kafkajs would have re-armed it every millisecond: about 30 checks.
    expect(checks).toBe(1);
  });

  it('leaves no timer once a request completes with nothing pending', () => {
    vi.useFakeTimers();
    const q = queue(null);
    request(q, 1);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
    q.destroy();
  });

  it('sends a request held by a broker throttle when the throttle ends, not before', () => {
    vi.useFakeTimers();
    const q = queue(null);
    q.throttledUntil = Date.now() + 50;
    request(q, 1);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1]);
    q.destroy();
  });

  it('sends requests held by the in-flight limit as earlier ones complete', () => {
    vi.useFakeTimers();
    const q = queue(1);
    request(q, 1);
    request(q, 2);
    request(q, 3);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(100); // polled as kafkajs does; still at the limit
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    expect(sent).toEqual([1, 2, 3]);
    expect(q.pending).toEqual([]);
    // The 10 ms poll ends with the last waiting request.
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
    q.destroy();
  });
});
