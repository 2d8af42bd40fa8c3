/**
 * kafkajs, loaded with a native CRC-32C. kafkajs checksums every record batch it produces in
 * JavaScript, a byte at a time: in the daemon's profile that was the event loop's largest single cost
 * (8%, events being larger than their input). Its checksum module is replaced in the require cache
 * before kafkajs is first loaded, so its record-batch encoder picks up the addon's (SSE4.2) instead.
 * Every runtime use of kafkajs in logsift goes through this module; without the addon, kafkajs keeps
 * its own.
 */
import { createRequire } from 'node:module';

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
  const module = new (require('node:module') as { Module: new (id: string) => NodeJS.Module }).Module(path);
  Object.assign(module, { filename: path, loaded: true, exports: crc32c });
  require.cache[path] = module;
  return true;
}

export const nativeCrc32c = installNativeCrc32c();
const kafkajs = require('kafkajs') as KafkaJs;

export const Kafka: KafkaJs['Kafka'] = kafkajs.Kafka;
export type Kafka = KafkaJsModule.Kafka;
export const { Partitioners, logLevel, CompressionTypes, CompressionCodecs } = kafkajs;
