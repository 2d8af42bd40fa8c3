/**
 * The only module that loads the native addon. It resolves the binary, checks the platform and turns
 * every load failure into a typed error that names what to install.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ErrorCodes, LogsiftError } from '../errors.js';

/** Hyperscan flag bits (hs_compile.h). */
export const HsFlags = {
  CASELESS: 1,
  DOTALL: 2,
  MULTILINE: 4,
  SINGLEMATCH: 8,
  ALLOWEMPTY: 16,
  UTF8: 32,
  UCP: 64,
  PREFILTER: 128,
  SOM_LEFTMOST: 256,
} as const;

export interface NativePattern {
  expression: string;
  flags: number;
  id: number;
}

export interface NativeCheckResult {
  ok: boolean;
  error?: string;
  minWidth?: number;
  maxWidth?: number | null;
}

/** A Hyperscan compile target (hs_platform_info_t). */
export interface NativePlatform {
  tune: number;
  cpuFeatures: number;
}

/** Generic tuning, no optional CPU features: a database every x86-64 host that runs libhs can load. */
export const PORTABLE_PLATFORM: NativePlatform = Object.freeze({ tune: 0, cpuFeatures: 0 });

export interface NativeDatabase {
  serialize(): Buffer;
  size(): number;
  info(): string | null;
}

export interface NativeScanner {
  /** Returns (message index, pattern id) pairs, flattened. `offsets` has one more entry than messages. */
  scan(data: Buffer, offsets: Uint32Array): Uint32Array;
}

export interface NativeBinding {
  version: string;
  /** For the host CPU, or for `platform` (see PORTABLE_PLATFORM). */
  compile(patterns: readonly NativePattern[], platform?: NativePlatform): Promise<NativeDatabase>;
  check(patterns: readonly NativePattern[]): Promise<NativeCheckResult[]>;
  deserialize(bytes: Buffer): NativeDatabase;
  serializedInfo(bytes: Buffer): string | null;
  platform(): { tune?: number; cpuFeatures?: number; valid: boolean };
  /** The unsigned CRC-32C (Castagnoli) of the bytes (Kafka record batches). */
  crc32c(bytes: Uint8Array): number;
  Scanner: new (db: NativeDatabase) => NativeScanner;
}

const SUPPORTED_ARCH = new Set(['x64', 'arm64', 'ppc64']);
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let cached: NativeBinding | undefined;

/** Where the addon is looked for; `LOGSIFT_NATIVE_PATH` overrides it (for packaging). */
export function nativePath(): string {
  return process.env['LOGSIFT_NATIVE_PATH'] ?? join(packageRoot, 'build', 'Release', 'logsift_hs.node');
}

export function loadNative(): NativeBinding {
  if (cached) return cached;
  if (!SUPPORTED_ARCH.has(process.arch) || (process.platform !== 'linux' && process.platform !== 'darwin')) {
    throw new LogsiftError(
      ErrorCodes.NATIVE_INCOMPATIBLE,
      `logsift's Hyperscan addon supports Linux and macOS on x64/arm64/ppc64, not ${process.platform}/${process.arch}`,
    );
  }
  const path = nativePath();
  if (!existsSync(path)) {
    throw new LogsiftError(
      ErrorCodes.NATIVE_MISSING,
      `the native matcher is not built (${path} is missing): install the build dependencies ` +
        '(Debian: apt-get install libvectorscan-dev pkg-config g++ make python3) and run `npm run build:native`',
    );
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeBinding;
  } catch (err) {
    const message = (err as Error).message;
    const missingLib = /libhs\.so/.test(message);
    throw new LogsiftError(
      missingLib ? ErrorCodes.NATIVE_MISSING : ErrorCodes.NATIVE_INCOMPATIBLE,
      missingLib
        ? 'the Hyperscan runtime library libhs is not installed (Debian: apt-get install libvectorscan5, or libhyperscan5)'
        : `cannot load the native matcher ${path}: ${message} (rebuild it with \`npm run build:native\`)`,
      { cause: err },
    );
  }
  if (!cached.platform().valid) {
    throw new LogsiftError(ErrorCodes.NATIVE_INCOMPATIBLE, 'this CPU lacks the instructions libhs was built for (hs_valid_platform failed)');
  }
  return cached;
}
