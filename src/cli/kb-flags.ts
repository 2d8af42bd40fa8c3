/**
 * The KB-load flags `scan`, `kb lint` and `kb suggest` share. Kept apart from kb-tools.ts, which
 * loads the linter and the template miner, so that `scan` does not load them unless asked.
 */
import type { LoadKbOptions } from '../app/index.js';
import { filterTermProblem, type KbFilterSpec } from '../kb/filter.js';
import { UsageError } from './common.js';

/** Flags that choose and load the KB, as parseArgs options. */
export const KB_LOAD_FLAGS = {
  kb: { type: 'string', multiple: true },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  'case-sensitive': { type: 'boolean', default: false },
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean', default: false },
  'allow-invalid-records': { type: 'boolean', default: false },
} as const;

export interface KbLoadFlagValues {
  kb?: string[] | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  'case-sensitive'?: boolean | undefined;
  'cache-dir'?: string | undefined;
  'no-cache'?: boolean | undefined;
  'allow-invalid-records'?: boolean | undefined;
}

/**
 * `--include`/`--exclude` (repeatable, or comma-separated), else `$LOGSIFT_KB_INCLUDE` /
 * `$LOGSIFT_KB_EXCLUDE` (comma-separated), as for `logsift run`.
 */
export function filterFromFlags(values: KbLoadFlagValues, env: NodeJS.ProcessEnv = process.env): KbFilterSpec {
  const list = (given: string[] | undefined, name: string): string[] => {
    const raw = given ?? (env[name] !== undefined ? [env[name]] : []);
    const terms = raw.flatMap((g) => g.split(',')).map((t) => t.trim()).filter(Boolean);
    for (const t of terms) {
      const problem = filterTermProblem(t);
      if (problem) throw new UsageError(`${given ? `--${name === 'LOGSIFT_KB_INCLUDE' ? 'include' : 'exclude'}` : name}: ${problem}`);
    }
    return terms;
  };
  return { include: list(values.include, 'LOGSIFT_KB_INCLUDE'), exclude: list(values.exclude, 'LOGSIFT_KB_EXCLUDE') };
}

export function kbLoadOptions(values: KbLoadFlagValues, extra: Partial<LoadKbOptions> = {}): LoadKbOptions {
  return {
    allowInvalid: values['allow-invalid-records'] ?? false,
    matcher: {
      ignoreCase: !values['case-sensitive'],
      // One-shot commands: the exact engine's worker starts when a line first needs it, if ever.
      prewarm: false,
      ...(values['no-cache'] ? { cacheDir: null } : values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
    },
    filter: filterFromFlags(values),
    ...extra,
  };
}

export function shareFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a share from 0 to 1 (got "${value}")`);
  return n;
}
