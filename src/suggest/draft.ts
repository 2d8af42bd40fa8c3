/**
 * A draft KB record (seed format) from a mined template: the regex keeps the template's literal
 * tokens (escaped) and generalizes its variable parts; leading and trailing variable tokens (time
 * stamps, pids, ids) are left out, since a KB regex is searched anywhere in a message. The signature
 * is the part of the example line the regex matches, so the record always matches its own
 * signature. Domain and category are guessed from keywords (best effort; `unknown` /
 * `runtime_error` otherwise); the root cause is a TODO for a person to fill in.
 */
import { createHash } from 'node:crypto';

import { PLACEHOLDER, WILDCARD, type TemplateView } from './templates.js';

export interface DraftRecord {
  id: string;
  signature: string;
  regex: string;
  domain: string;
  category: string;
  root_cause: string;
  tags: string[];
  evidence_count: number;
  examples: { match: string[]; no_match: string[] };
}

/** Regex for each placeholder: Python `re` syntax that JavaScript and Hyperscan read alike. */
const PLACEHOLDER_REGEX: Record<string, string> = {
  NUM: '-?\\d+(?:[.,:]\\d+)*',
  HEX: '(?:0x)?[0-9a-fA-F]+',
  IP: '\\d{1,3}(?:\\.\\d{1,3}){3}(?::\\d+)?',
  PATH: '\\S+',
  STR: '(?:"[^"]*"|\'[^\']*\')',
  DUR: '\\d+(?:\\.\\d+)?(?:ms|us|ns|s|m|h)',
  TS: '[A-Za-z]{3}',
  TIME: '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d+)?(?:Z|[+-]\\d{2}:?\\d{2})?',
  ID: '[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}',
};

/** Escapes the characters special in Python `re` (and JavaScript) outside a class. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\.^$*+?{}[\]|()]/g, '\\$&');
}

/**
 * A token with nothing but placeholders, punctuation and at most one letter (`E0501`, `T`) carries
 * no evidence of the error kind.
 */
function isVariable(token: string): boolean {
  return token === WILDCARD || (token.replace(PLACEHOLDER, '').match(/\p{L}/gu)?.length ?? 0) < 2;
}

function tokenRegex(token: string, wildcard: string): string {
  if (token === WILDCARD) return wildcard;
  let out = '';
  let last = 0;
  for (const m of token.matchAll(PLACEHOLDER)) {
    out += escapeRegex(token.slice(last, m.index));
    out += m[1] === '*' ? wildcard : PLACEHOLDER_REGEX[m[1]!]!;
    last = m.index + m[0].length;
  }
  return out + escapeRegex(token.slice(last));
}

const DOMAINS: [RegExp, string][] = [
  [/\bTraceback\b|\bFile "[^"]+\.py"|\bpython/i, 'python'],
  [/\bjava\.|\borg\.apache\.|Exception\b.*\bat\b|\bjvm\b/i, 'java'],
  [/\bkafka/i, 'kafka'],
  [/\bredis/i, 'redis'],
  [/\bdocker|\bcontainerd/i, 'docker'],
  [/\bkube|\bkubelet|\bpod\b/i, 'kubernetes'],
  [/\bnginx/i, 'nginx'],
  [/\bpostgres|\bmysql|\bsql\b|\bsqlite|\bdatabase/i, 'database'],
  [/\bnode(?:js)?\b|\bnpm\b|\bECONN/i, 'node'],
  [/\bsshd?\b|\bpam_/i, 'security'],
  [/\bhdfs\b|\bhadoop|\bspark|\bzookeeper|\byarn\b/i, 'data'],
];

const CATEGORIES: [RegExp, string][] = [
  [/timed? ?out|timeout/i, 'timeout_error'],
  [/refused|unreachable|reset by peer|connect|no route|dns|resolve/i, 'network_error'],
  [/denied|permission|unauthori[sz]ed|forbidden|authentication|auth(?:entication)? fail/i, 'auth_error'],
  [/out of memory|\boom\b|memory/i, 'memory_error'],
  [/no such file|not found|disk|i\/o|\bio\b/i, 'io_error'],
  [/config|invalid (?:option|setting|argument)/i, 'config_error'],
];

function slug(tokens: readonly string[]): string {
  const words = tokens
    .filter((t) => !isVariable(t))
    .map((t) => t.replace(PLACEHOLDER, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((w) => w !== '')
    .slice(0, 5);
  return (words.join('-') || 'template').slice(0, 60).replace(/-+$/, '');
}

/** The draft for one template, or null when it has no literal token (nothing to match on). */
export function draftRecord(t: TemplateView, options: { idPrefix?: string } = {}): DraftRecord | null {
  let start = 0;
  let end = t.tokens.length;
  while (start < end && isVariable(t.tokens[start]!)) start++;
  while (end > start && isVariable(t.tokens[end - 1]!)) end--;
  if (start === end) return null;
  const core = t.tokens.slice(start, end);
  // `\S+` per wildcard token; if the example does not fit (a quoted string with spaces became a
  // wildcard), a lazy `.+?` does.
  let regex = core.map((tok) => tokenRegex(tok, '\\S+')).join('\\s+');
  let m = new RegExp(regex, 'i').exec(t.example);
  if (!m) {
    regex = core.map((tok) => tokenRegex(tok, '.+?')).join('\\s+');
    m = new RegExp(regex, 'i').exec(t.example);
  }
  if (!m || m[0] === '') return null;
  const text = t.tokens.join(' ');
  const domain = DOMAINS.find(([re]) => re.test(t.example))?.[1] ?? 'unknown';
  const category = CATEGORIES.find(([re]) => re.test(text))?.[1] ?? 'runtime_error';
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return {
    id: `${options.idPrefix ?? 'draft'}/${domain}/${slug(core)}-${hash}`,
    signature: m[0],
    regex,
    domain,
    category,
    root_cause: `TODO: fill in the root cause (drafted by logsift from ${t.count} unmatched error line(s))`,
    tags: ['draft'],
    evidence_count: t.count,
    examples: { match: [t.example], no_match: [] },
  };
}
