/**
 * Loads the configuration: defaults < JSON file < environment (`LOGSIFT_…`) < command-line flags.
 * Environment names come from the schema itself: `kafka.sasl.passwordFile` is
 * `LOGSIFT_KAFKA_SASL_PASSWORD_FILE`; lists are comma-separated.
 */
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { ErrorCodes, LogsiftError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';

type Json = Record<string, unknown>;
type Leaf = 'string' | 'number' | 'boolean' | 'array';

const envName = (path: readonly string[]): `LOGSIFT_${string}` =>
  `LOGSIFT_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else return s;
  }
}

/** Every leaf setting: its path, environment name and kind. */
export function settings(schema: z.ZodType = ConfigSchema, path: string[] = []): { path: string[]; env: string; kind: Leaf }[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => settings(v, [...path, k]));
  }
  const kind: Leaf = s instanceof z.ZodArray ? 'array' : s instanceof z.ZodBoolean ? 'boolean' : s instanceof z.ZodNumber ? 'number' : 'string';
  return [{ path, env: envName(path), kind }];
}

function setPath(obj: Json, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Json;
  }
  cur[path[path.length - 1]!] = value;
}

function parseEnv(raw: string, kind: Leaf, name: string): unknown {
  if (raw === 'null') return null;
  switch (kind) {
    case 'array':
      return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw new LogsiftError(ErrorCodes.CONFIG_INVALID, `${name} must be true or false (got "${raw}")`, { field: name });
      return raw === 'true';
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw new LogsiftError(ErrorCodes.CONFIG_INVALID, `${name} must be a number (got "${raw}")`, { field: name });
      return n;
    }
    default:
      return raw;
  }
}

export interface LoadConfigOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as partial config paths. */
  overrides?: { path: string[]; value: unknown; flag: string }[];
}

/** Where a setting came from, for error messages: the env var or flag name, else the file path. */
function describeSource(path: readonly (string | number | symbol)[], sources: Map<string, string>, file: string | undefined): string {
  const key = path.filter((p) => typeof p === 'string').join('.');
  for (const [k, v] of sources) if (key === k || key.startsWith(`${k}.`)) return v;
  return file ?? 'configuration';
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  let raw: Json = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new LogsiftError(ErrorCodes.CONFIG_INVALID, `cannot read config file: ${(err as Error).message}`, { file: options.file, cause: err });
    }
    try {
      raw = JSON.parse(text) as Json;
    } catch (err) {
      throw new LogsiftError(ErrorCodes.CONFIG_INVALID, `config file is not valid JSON: ${(err as Error).message}`, { file: options.file, cause: err });
    }
  }
  const sources = new Map<string, string>();
  for (const s of settings()) {
    const value = env[s.env];
    if (value === undefined) continue;
    setPath(raw, s.path, parseEnv(value, s.kind, s.env));
    sources.set(s.path.join('.'), s.env);
  }
  for (const o of options.overrides ?? []) {
    setPath(raw, o.path, o.value);
    sources.set(o.path.join('.'), o.flag);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    const all = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new LogsiftError(ErrorCodes.CONFIG_INVALID, `invalid configuration (${describeSource(issue.path, sources, options.file)}): ${all}`, {
      field,
      ...(options.file ? { file: options.file } : {}),
    });
  }
  return parsed.data;
}

/** Reads a secret file (trailing newline removed). */
export function readSecretFile(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new LogsiftError(ErrorCodes.CONFIG_INVALID, `cannot read ${field}: ${(err as Error).message}`, { field, cause: err });
  }
}

/** The configuration with every secret replaced, for logs. */
export function redact(config: Config): unknown {
  return JSON.parse(JSON.stringify(config, (k, v: unknown) => (k === 'password' && v !== undefined ? '***' : v))) as unknown;
}
