export { canonToRecord, isCanon } from './canon.js';
export { FILTER_FIELDS, KbFilter, NOT_INCLUDED, filterReport, filterTermProblem, parseFilterTerm, type DroppedRecord, type FilterTerm, type KbFilterSpec } from './filter.js';
export { KnowledgeBase, type RecordHead } from './knowledge-base.js';
export { loadRecords, parseRecordText, type LoadedRecord, type LoadOptions, type LoadResult } from './load.js';
export { checkRedos, checkRedosAsync, type RedosInput, type RedosOptions, type RedosReport } from './redos.js';
export { RecordSchema, deadEndIds, workaroundIds, type DeadEnd, type KbRecord, type Workaround } from './record.js';

import { ErrorCodes, LogsiftError } from '../errors.js';
import { KbFilter, type DroppedRecord, type KbFilterSpec } from './filter.js';
import { KnowledgeBase } from './knowledge-base.js';
import { loadRecords, type LoadOptions } from './load.js';

/**
 * Loads and validates every path into one knowledge base; `filter` (kb.include / kb.exclude) drops
 * records after validation and returns them with the reason.
 */
export async function loadKnowledgeBase(
  paths: readonly string[],
  options: LoadOptions & { filter?: KbFilterSpec } = {},
): Promise<{ kb: KnowledgeBase; problems: LogsiftError[]; dropped: DroppedRecord[] }> {
  const { records, problems } = await loadRecords(paths, options);
  const filter = new KbFilter(options.filter ?? {});
  const { kept, dropped } = filter.apply(records);
  if (kept.length === 0 && records.length > 0) {
    throw new LogsiftError(ErrorCodes.KB_EMPTY, `the KB filter (${filter.describe()}) dropped all ${records.length} records`, { field: 'kb.include' });
  }
  return { kb: new KnowledgeBase(kept), problems, dropped };
}
