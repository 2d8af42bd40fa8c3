/**
 * zstd from Node's own zlib (Node 22.15+), without kafkajs: the configuration checks for it before
 * any Kafka client exists; codecs.ts registers it with kafkajs.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';

type Callback = (err: Error | null, out: Buffer) => void;
const z = zlib as unknown as { zstdCompress?: (b: Buffer, cb: Callback) => void; zstdDecompress?: (b: Buffer, cb: Callback) => void };

/** True when this Node.js has zstd in zlib. */
export function zstdAvailable(): boolean {
  return typeof z.zstdCompress === 'function' && typeof z.zstdDecompress === 'function';
}

/** zstd compress and decompress; throws when this Node.js has none (check zstdAvailable first). */
export function zstd(): { compress: (b: Buffer) => Promise<Buffer>; decompress: (b: Buffer) => Promise<Buffer> } {
  if (!z.zstdCompress || !z.zstdDecompress) throw new Error('this Node.js has no zstd in zlib (22.15 or later)');
  return { compress: promisify(z.zstdCompress), decompress: promisify(z.zstdDecompress) };
}
