/**
 * ReDoS lint: is a regex prone to super-linear backtracking in a backtracking engine (JavaScript's
 * RegExp, the exact engine)? Uses `recheck` (https://makenowjust-labs.github.io/recheck/) with its
 * pure JavaScript backend — no native binary, no Java, works offline — and reports the attack string
 * it found as evidence. `unknown` means the checker gave up (timeout, unsupported syntax): neither
 * proven safe nor shown vulnerable. At run time every non-linear exact-engine RegExp runs under the
 * per-message budget either way (matcher/exact-engine.ts); this check tells you before it bites.
 */
import { createRequire } from 'node:module';

import type * as Recheck from 'recheck';

export interface RedosInput {
  /** JavaScript RegExp source (the exact engine's form). */
  source: string;
  flags: string;
}

export interface RedosReport {
  status: 'safe' | 'vulnerable' | 'unknown';
  /** `exponential`, `polynomial (degree 2)`, `linear`, … when known. */
  complexity?: string;
  /** The attack string, as a JavaScript expression (e.g. `'a'.repeat(31) + '\x00'`), when vulnerable. */
  attack?: string;
  /** Why the status is unknown (e.g. `timeout`). */
  detail?: string;
}

export interface RedosOptions {
  /** Checker time limit per regex (its first call also warms up 3 MB of JavaScript). Default 10000 ms. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const require = createRequire(import.meta.url);
let lib: typeof Recheck | null = null;

/** recheck is 3 MB of JavaScript: loaded on first use only. */
function recheck(): typeof Recheck {
  lib ??= require('recheck') as typeof Recheck;
  return lib;
}

/** recheck picks its backend from the environment at each call; pin ours for the duration of one. */
function withEnv<T>(name: string, value: string, run: () => T): T {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

function report(d: Recheck.Diagnostics): RedosReport {
  if (d.status === 'unknown') return { status: 'unknown', detail: d.error.kind === 'timeout' || d.error.kind === 'cancel' ? d.error.kind : `${d.error.kind}: ${d.error.message}` };
  const c = d.complexity;
  const complexity = c.type === 'polynomial' ? `polynomial (degree ${c.degree})` : c.type;
  if (d.status === 'safe') return { status: 'safe', complexity };
  return { status: 'vulnerable', complexity, attack: d.attack.pattern };
}

function params(options: RedosOptions): Recheck.Parameters {
  return { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
}

/** Synchronous check on the calling thread (CLI use: `logsift kb check`). */
export function checkRedos(regex: RedosInput, options: RedosOptions = {}): RedosReport {
  const { checkSync } = recheck();
  return report(withEnv('RECHECK_SYNC_BACKEND', 'pure', () => checkSync(regex.source, regex.flags, params(options))));
}

/** The same check in recheck's worker thread, so a daemon's event loop keeps running meanwhile. */
export async function checkRedosAsync(regex: RedosInput, options: RedosOptions = {}): Promise<RedosReport> {
  const { check } = recheck();
  return report(await withEnv('RECHECK_BACKEND', 'worker', () => check(regex.source, regex.flags, params(options))));
}
