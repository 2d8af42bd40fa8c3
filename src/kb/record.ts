import { z } from 'zod';

/**
 * One knowledge-base record, in the seed's schema (shared/seeds/001_*.txt). Fields logsift reads are
 * validated strictly; the rest of the seed schema is accepted as documented and kept as is, so a
 * record round-trips through `logsift kb` tools without losing anything.
 */
const rate = z.number().min(0).max(1);

export const WorkaroundSchema = z.looseObject({
  id: z.string().min(1).optional(),
  action: z.string().min(1),
  how: z.string().nullish(),
  success_rate: rate.nullish(),
  condition: z.string().nullish(),
  sources: z.array(z.string()).optional(),
});

export const DeadEndSchema = z.looseObject({
  id: z.string().min(1).optional(),
  action: z.string().min(1),
  why_fails: z.string().nullish(),
  fail_rate: rate.nullish(),
  condition: z.string().nullish(),
  sources: z.array(z.string()).optional(),
});

export const VersionSchema = z.looseObject({
  version: z.string(),
  introduced: z.string().nullish(),
  deprecated: z.string().nullish(),
  removed: z.string().nullish(),
  behavior_change: z.string().nullish(),
  status: z.string().nullish(),
});

export const RecordSchema = z.looseObject({
  id: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^\s#]+$/, 'must contain no whitespace and no "#" (reserved for workaround ids)'),
  signature: z.string().min(1),
  regex: z.string().min(1),
  domain: z.string().min(1),
  category: z.string().min(1),
  subcategory: z.string().nullish(),
  root_cause: z.string().min(1),
  root_cause_type: z.string().nullish(),
  signature_zh: z.string().nullish(),
  root_cause_zh: z.string().nullish(),
  versions: z.array(VersionSchema).default([]),
  os_specific: z.record(z.string(), z.unknown()).default({}),
  dead_ends: z.array(DeadEndSchema).default([]),
  workarounds: z.array(WorkaroundSchema).default([]),
  workarounds_zh: z.array(z.string()).default([]),
  transition_graph: z
    .looseObject({
      leads_to: z.array(z.unknown()).default([]),
      preceded_by: z.array(z.unknown()).default([]),
      frequently_confused_with: z.array(z.unknown()).default([]),
    })
    .optional(),
  official_doc_url: z.string().nullish(),
  official_doc_section: z.string().nullish(),
  error_code: z.union([z.string(), z.number()]).nullish(),
  verification_tier: z.string().nullish(),
  confidence: rate.nullish(),
  fix_success_rate: rate.nullish(),
  resolvable: z.union([z.string(), z.boolean()]).nullish(),
  first_seen: z.string().nullish(),
  last_confirmed: z.string().nullish(),
  last_updated: z.string().nullish(),
  evidence_count: z.number().int().min(0).nullish(),
  tags: z.array(z.string()).default([]),
  locale: z.string().nullish(),
  aliases: z.array(z.string()).default([]),
  /** logsift extension: example lines that must match (tested for the starter KB). */
  examples: z
    .looseObject({
      match: z.array(z.string()).default([]),
      no_match: z.array(z.string()).default([]),
    })
    .optional(),
});

export type KbRecord = z.infer<typeof RecordSchema>;
export type Workaround = z.infer<typeof WorkaroundSchema>;
export type DeadEnd = z.infer<typeof DeadEndSchema>;

export { deadEndIds, workaroundIds } from './ids.js';
