export { canonToRecord, isCanon } from './canon.js';
export { KnowledgeBase } from './knowledge-base.js';
export { loadRecords, parseRecordText, type LoadedRecord, type LoadOptions, type LoadResult } from './load.js';
export { checkRedos, checkRedosAsync, type RedosInput, type RedosOptions, type RedosReport } from './redos.js';
export { RecordSchema, deadEndIds, workaroundIds, type DeadEnd, type KbRecord, type Workaround } from './record.js';

import type { LogsiftError } from '../errors.js';
import { KnowledgeBase } from './knowledge-base.js';
import { loadRecords, type LoadOptions } from './load.js';

/** Loads and validates every path into one knowledge base. */
export async function loadKnowledgeBase(paths: readonly string[], options: LoadOptions = {}): Promise<{ kb: KnowledgeBase; problems: LogsiftError[] }> {
  const { records, problems } = await loadRecords(paths, options);
  return { kb: new KnowledgeBase(records), problems };
}
