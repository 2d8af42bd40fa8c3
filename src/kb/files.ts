/**
 * The files a KB path stands for, in load order: the file itself, or a directory's record files
 * (`.json`, `.jsonl`, `.ndjson`), recursively, sorted by name, dot files skipped. No zod here: the KB
 * snapshot lists files without loading the validator.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

const RECORD_EXTENSIONS = new Set(['.json', '.jsonl', '.ndjson']);

/** Throws the file system's error when `path` cannot be read. */
export async function listRecordFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const full = join(path, e.name);
    if (e.isDirectory()) files.push(...(await listRecordFiles(full)));
    else if (RECORD_EXTENSIONS.has(extname(e.name))) files.push(full);
  }
  return files;
}
