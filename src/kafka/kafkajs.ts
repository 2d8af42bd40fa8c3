/**
 * kafkajs, loaded with a native CRC-32C. kafkajs checksums every record batch it produces in
 * JavaScript, a byte at a time: in the daemon's profile that was the event loop's largest single cost
 * (8%, events being larger than their input). Its checksum module is replaced in the require cache
 * before kafkajs is first loaded, so its record-batch encoder picks up the addon's (SSE4.2) instead.
 * Its protocol encoder is given pooled buffers the same way (installPooledEncoder), and its request
 * queue arms a timer only while requests wait (installQuietRequestQueue). Every runtime use
 * of kafkajs in logsift goes through this module; without the addon, kafkajs keeps its own checksum.
 */
import { Module, createRequire } from 'node:module';

import type * as KafkaJsModule from 'kafkajs';

import { loadNative } from '../matcher/native.js';

type KafkaJs = typeof KafkaJsModule;

const require = createRequire(import.meta.url);

/** The checksum kafkajs's record-batch encoder calls (`recordBatch/crc32C/index.js`: unsigned CRC-32C of a Buffer). */
export function installNativeCrc32c(): boolean {
  let crc32c: (bytes: Uint8Array) => number;
  try {
    crc32c = loadNative().crc32c;
  } catch {
    return false;
  }
  if (typeof crc32c !== 'function') return false;
  const path = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  const cached = require.cache[path];
  if (cached) return cached.exports === crc32c;
  const module = new Module(path);
  Object.assign(module, { filename: path, loaded: true, exports: crc32c });
  require.cache[path] = module;
  return true;
}

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  nextPowerOfTwo(value: number): number;
  sizeOfVarLong(value: unknown): number;
  prototype: { writeVarLong(this: EncoderInstance, value: unknown): EncoderInstance };
}

/**
 * Below this magnitude a 64-bit varlong is a small number: its zigzag form (2|v| or 2|v| - 1) fits
 * in 31 bits, so 32-bit integer arithmetic writes the same bytes as kafkajs's BigInt path.
 */
const SMALL_VARLONG = 2 ** 30;

/** Zigzag of a small integer (|v| < SMALL_VARLONG), unsigned. */
const zigzag32 = (v: number): number => ((v << 1) ^ (v >> 31)) >>> 0;

/** Writes `value` (unsigned, below 2^32) as an unsigned LEB128 varint at the encoder's offset. */
function putUVarInt(e: EncoderInstance, value: number): void {
  e.ensureAvailable(5);
  const buf = e.buf;
  let v = value >>> 0;
  while (v > 0x7f) {
    buf[e.offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[e.offset++] = v;
}

const isSmallVarLong = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > -SMALL_VARLONG && value < SMALL_VARLONG;

/**
 * kafkajs's protocol Encoder, allocating from Node's buffer pool: kafkajs makes one per record and
 * per header, each a zero-filled `Buffer.alloc(512)` of its own (the event loop's largest cost once
 * the checksum was native). An encoder only ever exposes the bytes it wrote (`buf.slice(0, offset)`),
 * so unfilled memory is never read. Same methods, same statics, `instanceof` the original.
 *
 * Its varints are written in place: kafkajs builds each one in an array, makes a Buffer of it and
 * copies that in (a record has about ten: lengths, offset delta, one per header key and value), and
 * writes a record's timestamp delta, nearly always 0, through BigInt arithmetic (`writeVarLong` and
 * `sizeOfVarLong`). Small varlongs take 32-bit arithmetic here, larger ones kafkajs's own path.
 */
export function installPooledEncoder(): boolean {
  const path = require.resolve('kafkajs/src/protocol/encoder.js');
  if (require.cache[path]) return false;
  const Encoder = require(path) as EncoderClass;
  function PooledEncoder(this: EncoderInstance, initialSize = 511): void {
    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    this.offset = 0;
  }
  PooledEncoder.prototype = Object.create(Encoder.prototype as object) as object;
  Object.defineProperty(PooledEncoder.prototype, 'constructor', { value: PooledEncoder, writable: true, configurable: true });
  Object.defineProperty(PooledEncoder.prototype, 'ensureAvailable', {
    value(this: { buf: Buffer; offset: number }, length: number): void {
      if (this.offset + length <= this.buf.length) return;
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    },
    writable: true,
    configurable: true,
  });
  const writeVarLong = Encoder.prototype.writeVarLong;
  const methods: Record<string, (this: EncoderInstance, value: number) => EncoderInstance> = {
    // kafkajs: `(value & 0xffffff80) !== 0` per byte, on the zigzag (writeVarInt) or the value as given.
    writeUVarInt(value) {
      putUVarInt(this, value);
      return this;
    },
    writeVarInt(value) {
      putUVarInt(this, (value << 1) ^ (value >> 31));
      return this;
    },
    writeVarLong(value: unknown) {
      if (!isSmallVarLong(value)) return writeVarLong.call(this, value);
      putUVarInt(this, zigzag32(value));
      return this;
    },
  };
  for (const [name, value] of Object.entries(methods)) Object.defineProperty(PooledEncoder.prototype, name, { value, writable: true, configurable: true });
  Object.setPrototypeOf(PooledEncoder, Encoder);
  Object.defineProperty(PooledEncoder, 'sizeOfVarLong', {
    value(value: unknown): number {
      if (!isSmallVarLong(value)) return Encoder.sizeOfVarLong(value);
      let v = zigzag32(value);
      let bytes = 1;
      while (v > 0x7f) {
        bytes++;
        v >>>= 7;
      }
      return bytes;
    },
    writable: true,
    configurable: true,
  });
  require.cache[path]!.exports = PooledEncoder;
  return true;
}

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/** kafkajs's poll interval for a queue whose requests wait on the in-flight limit (`requestQueue/index.js`). */
const PENDING_POLL_MS = 10;

/**
 * kafkajs's RequestQueue re-arms a check after every check, also when nothing is pending, with a
 * delay of `-1 - Date.now()`: Node turns it into 1 ms, so every connection polls its empty queue a
 * thousand times a second for as long as it lives, and from Node 24 prints a TimeoutNegativeWarning on
 * stderr (kafkajs issue #1751), a line that is not JSON in the daemon's log. Here a check is armed only
 * while requests wait: at the throttle's end while the broker throttles, every 10 ms while they wait on
 * the in-flight limit (kafkajs's own timing for both). An empty queue needs none: `push` arms one when
 * it queues a request, and every completed or timed-out request checks the queue. `npm run
 * bench:idle`: an idle daemon uses 1.4% of a core against an idle kafkajs pass-through's 2.0%
 * at-least-once, 1.5% against 3.9% exactly-once (a transactional producer, and its connection, per
 * input partition). bench:pipeline: about 2.5 µs less CPU per message in both modes than with
 * kafkajs's timing, the throughput within the noise.
 */
export function installQuietRequestQueue(): boolean {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike };
  const proto = RequestQueue.prototype;
  if (typeof proto.checkPendingRequests !== 'function') return false;
  Object.defineProperty(proto, 'scheduleCheckPendingRequests', {
    value(this: RequestQueueLike): void {
      if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
      const throttled = this.throttledUntil - Date.now();
      this.throttleCheckTimeoutId = setTimeout(() => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      }, throttled > 0 ? throttled : PENDING_POLL_MS);
    },
    writable: true,
    configurable: true,
  });
  return true;
}

export const nativeCrc32c = installNativeCrc32c();
export const quietRequestQueue = installQuietRequestQueue();
export const pooledEncoder = installPooledEncoder();
const kafkajs = require('kafkajs') as KafkaJs;

export const Kafka: KafkaJs['Kafka'] = kafkajs.Kafka;
export type Kafka = KafkaJsModule.Kafka;
export const { Partitioners, logLevel, CompressionTypes, CompressionCodecs } = kafkajs;
