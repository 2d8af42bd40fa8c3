/**
 * Importer for deadends.dev's nested canon format (shared/kb/deadends.dev/canons.jsonl) into the seed
 * schema, following the mapping in shared/README.md. Pure: object in, object out; validation happens
 * afterwards with the record schema so errors point at the original file and line.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A canon has `error` and `verdict` objects; a seed record has a top-level `regex`. */
export function isCanon(value: unknown): value is Obj {
  return isObj(value) && isObj(value['error']) && isObj(value['verdict']) && !('regex' in value);
}

export function canonToRecord(canon: Obj): Obj {
  const error = canon['error'] as Obj;
  const verdict = canon['verdict'] as Obj;
  const env = isObj(canon['environment']) ? canon['environment'] : {};
  const meta = isObj(canon['metadata']) ? canon['metadata'] : {};
  const runtime = isObj(env['runtime']) ? env['runtime'] : undefined;
  const versions = runtime
    ? [
        {
          version: [runtime['name'], runtime['version_range']].filter((x) => typeof x === 'string' && x !== '').join(' '),
          introduced: null,
          deprecated: null,
          removed: null,
          behavior_change: null,
          status: 'active',
        },
      ]
    : [];
  // Items keep the seed schema's fields only, as the reference conversion (records.jsonl) does.
  const workarounds = Array.isArray(canon['workarounds'])
    ? canon['workarounds'].map((w) =>
        isObj(w)
          ? {
              action: w['action'],
              success_rate: w['success_rate'] ?? null,
              how: w['how'] ?? w['action'],
              condition: w['condition'] ?? '',
              sources: w['sources'] ?? [],
            }
          : w,
      )
    : [];
  const deadEnds = Array.isArray(canon['dead_ends'])
    ? canon['dead_ends'].map((d) =>
        isObj(d)
          ? {
              action: d['action'],
              why_fails: d['why_fails'] ?? null,
              fail_rate: d['fail_rate'] ?? null,
              condition: d['condition'] ?? '',
              sources: d['sources'] ?? [],
            }
          : d,
      )
    : [];
  return {
    id: canon['id'],
    signature: error['signature'],
    regex: error['regex'],
    domain: error['domain'],
    category: error['category'],
    subcategory: null,
    root_cause: verdict['summary'],
    versions,
    os_specific: env['os'] !== undefined ? { os: env['os'] } : {},
    dead_ends: deadEnds,
    workarounds,
    transition_graph: isObj(canon['transition_graph']) ? canon['transition_graph'] : undefined,
    official_doc_url: null,
    verification_tier: meta['review_status'] ?? null,
    confidence: verdict['confidence'] ?? null,
    fix_success_rate: verdict['fix_success_rate'] ?? null,
    resolvable: verdict['resolvable'] ?? null,
    first_seen: error['first_seen'] ?? null,
    last_confirmed: error['last_confirmed'] ?? null,
    last_updated: verdict['last_updated'] ?? null,
    evidence_count: meta['evidence_count'] ?? null,
    tags: [],
    aliases: [],
  };
}
