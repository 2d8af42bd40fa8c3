/**
 * The native CRC-32C that kafkajs's record-batch encoder uses through src/kafka/kafkajs.ts gives
 * kafkajs's own JavaScript checksum on every length and alignment, and is installed before kafkajs
 * loads.
 */
import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { nativeCrc32c } from '../../../src/kafka/kafkajs.js';
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
