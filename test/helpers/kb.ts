/** Small in-memory knowledge bases for tests. */
import { KnowledgeBase, RecordSchema, type LoadedRecord } from '../../src/kb/index.js';

export function record(id: string, regex: string, extra: Record<string, unknown> = {}): LoadedRecord['record'] {
  return RecordSchema.parse({
    id,
    regex,
    signature: (extra['signature'] as string | undefined) ?? id,
    domain: 'test',
    category: 'test_error',
    root_cause: `root cause of ${id}`,
    confidence: 0.9,
    workarounds: [{ action: `fix ${id}` }, { action: `other fix ${id}`, id: `custom-${id}` }],
    dead_ends: [{ action: `don't ${id}`, why_fails: 'because' }],
    ...extra,
  });
}

export function kbOf(...records: LoadedRecord['record'][]): KnowledgeBase {
  return new KnowledgeBase(records.map((r, i) => ({ record: r, file: 'test.json', line: i + 1 })));
}
