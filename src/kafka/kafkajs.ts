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

interface EncoderClass {
  new (initialSize?: number): { buf: Buffer; offset: number };
  nextPowerOfTwo(value: number): number;
}

/**
 * kafkajs's protocol Encoder, allocating from Node's buffer pool: kafkajs makes one per record and
 * per header, each a zero-filled `Buffer.alloc(512)` of its own (the event loop's largest cost once
 * the checksum was native). An encoder only ever exposes the bytes it wrote (`buf.slice(0, offset)`),
 * so unfilled memory is never read. Same methods, same statics, `instanceof` the original.
 */
export function installPooledEncoder(): boolean {
  const path = require.resolve('kafkajs/src/protocol/encoder.js');
  if (require.cache[path]) return false;
  const Encoder = require(path) as EncoderClass;
  function PooledEncoder(this: { buf: Buffer; offset: number }, initialSize = 511): void {
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
  Object.setPrototypeOf(PooledEncoder, Encoder);
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
