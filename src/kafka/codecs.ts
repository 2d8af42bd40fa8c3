/**
 * Kafka compression codecs kafkajs does not ship: zstd, from Node's own zlib (Node 22.15+), no
 * native add-on. Registered once per process, for producing (`output.compression: zstd`) and for
 * consuming: without it, a batch that an upstream shipper compressed with zstd (Vector, Fluent Bit
 * and librdkafka producers offer it) fails every fetch of its partition.
 */
import type { CompressionTypes as CompressionType } from 'kafkajs';

import { CompressionCodecs, CompressionTypes } from './kafkajs.js';
import { zstd, zstdAvailable } from './zstd.js';

export type OutputCompression = 'none' | 'gzip' | 'zstd';

let registered = false;

/** Registers the zstd codec with kafkajs (idempotent); false when this Node.js has no zstd. */
export function registerCodecs(): boolean {
  if (registered) return true;
  if (!zstdAvailable()) return false;
  const { compress, decompress } = zstd();
  (CompressionCodecs as Record<number, () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> }>)[CompressionTypes.ZSTD] = () => ({
    compress: (encoder) => compress(encoder.buffer),
    decompress: (buffer) => decompress(buffer),
  });
  registered = true;
  return true;
}

export function compressionType(c: OutputCompression): CompressionType {
  return c === 'gzip' ? CompressionTypes.GZIP : c === 'zstd' ? CompressionTypes.ZSTD : CompressionTypes.None;
}
