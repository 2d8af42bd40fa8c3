import { mkdir, readFile, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { KbWatcher, fingerprint, serialized } from '../../../src/kb/watch.js';
import { useTempDirs } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';

const tempDir = useTempDirs('logsift-watch');
const watchers: KbWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

describe('fingerprint', () => {
  it('changes when a file in a directory tree is replaced by an atomic rename', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.json'), '[]');
    const before = await fingerprint([dir]);
    expect(await fingerprint([dir])).toBe(before);
    await writeFile(join(dir, 'sub', '.a.json.tmp'), '[]');
    expect(await fingerprint([dir])).toBe(before); // dot entries are not KB files
    await rename(join(dir, 'sub', '.a.json.tmp'), join(dir, 'sub', 'a.json'));
    expect(await fingerprint([dir])).not.toBe(before);
  });

  it('follows a Kubernetes ConfigMap ..data symlink swap', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'kb.json'), '[]');
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'kb.json'), join(dir, 'kb.json'));
    const before = await fingerprint([dir]);
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'kb.json'), '[]');
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    expect(await fingerprint([dir])).not.toBe(before);
  });

  it('records a missing path, and its appearance', async () => {
    const dir = await tempDir();
    const file = join(dir, 'kb.json');
    const missing = await fingerprint([file]);
    expect(missing).toContain('missing:ENOENT');
    await writeFile(file, '[]');
    expect(await fingerprint([file])).not.toBe(missing);
  });
});

describe('KbWatcher', () => {
  it('calls back once a change settled, after the last write, and again for a later change', async () => {
    const dir = await tempDir();
    const file = join(dir, 'kb.json');
    await writeFile(file, 'v1');
    const seen: string[] = [];
    watchers.push(await KbWatcher.start({ paths: [dir], debounceMs: 100, intervalMs: 20, onChange: async () => seen.push(await readFile(file, 'utf8')) }));
    await writeFile(file, 'v2-partial');
    await writeFile(file, 'v2');
    await waitFor(() => seen.length >= 1, 'the first callback', 10_000, 20);
    expect(seen[0]).toBe('v2');
    await unlink(file);
    await writeFile(file, 'v3');
    await waitFor(() => seen.length >= 2, 'the second callback', 10_000, 20);
    expect(seen[1]).toBe('v3');
  });

  it('keeps watching when a callback fails', async () => {
    const dir = await tempDir();
    const file = join(dir, 'kb.json');
    await writeFile(file, 'v1');
    let calls = 0;
    const w = await KbWatcher.start({ paths: [file], debounceMs: 0, intervalMs: 10, onChange: () => Promise.reject(new Error(`call ${++calls}`)) });
    watchers.push(w);
    await writeFile(file, 'v2-longer');
    await waitFor(() => calls === 1, 'the first callback', 10_000, 10);
    await writeFile(file, 'v3-longer-still');
    await waitFor(() => calls === 2, 'a callback after a failed one', 10_000, 10);
    expect(calls).toBe(2);
  });
});

describe('serialized', () => {
  it('runs one at a time; calls during a run share one follow-up run, also after a failure', async () => {
    const gates: (() => void)[] = [];
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    const reload = serialized(async () => {
      const n = ++runs;
      maxActive = Math.max(maxActive, ++active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
      if (n === 1) throw new Error('first run fails');
      return n;
    });
    const first = reload();
    const second = reload();
    const third = reload();
    expect(second).toBe(third);
    await waitFor(() => gates.length === 1, 'the first run', 1_000, 1);
    gates.shift()!();
    await expect(first).rejects.toThrow('first run fails');
    await waitFor(() => gates.length === 1, 'the follow-up run', 1_000, 1);
    gates.shift()!();
    expect(await second).toBe(2);
    const fourth = reload();
    await waitFor(() => gates.length === 1, 'a new run', 1_000, 1);
    gates.shift()!();
    expect(await fourth).toBe(3);
    expect(runs).toBe(3);
    expect(maxActive).toBe(1);
  });
});
