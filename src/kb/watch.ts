/**
 * Watches KB paths (files and directory trees) and calls back once they changed and then stayed
 * unchanged for the debounce time. Polls a fingerprint (inode, size, mtime of every file, symlinks
 * followed) rather than relying on inotify: that sees atomic renames by editors, files replaced
 * under a watched directory, and Kubernetes ConfigMap volumes, which swap a `..data` symlink (the
 * visible names are symlinks through it, so their target inode changes), the same way on every
 * filesystem. Dot entries are skipped, as the loader skips them.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One line per file (or missing path) under `paths`; equal strings mean nothing changed. */
export async function fingerprint(paths: readonly string[]): Promise<string> {
  const lines: string[] = [];
  const visit = async (path: string): Promise<void> => {
    let s;
    try {
      s = await stat(path);
    } catch (err) {
      lines.push(`${path}\0missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return;
    }
    if (!s.isDirectory()) {
      lines.push(`${path}\0${s.ino}:${s.size}:${s.mtimeMs}`);
      return;
    }
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      lines.push(`${path}\0unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return;
    }
    for (const name of names.sort()) if (!name.startsWith('.')) await visit(join(path, name));
  };
  for (const p of paths) await visit(p);
  return lines.join('\n');
}

export interface KbWatcherOptions {
  paths: readonly string[];
  /** Quiet time after the last change before `onChange`. */
  debounceMs: number;
  /** Poll period. Default: a quarter of the debounce, within [50 ms, 1 s]. */
  intervalMs?: number;
  /** Called (and awaited: never two at once) after a change settled. Reports its own failures. */
  onChange: () => Promise<unknown>;
}

export class KbWatcher {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private seen: string;
  private changedAt = 0;
  private readonly intervalMs: number;

  private constructor(
    private readonly options: KbWatcherOptions,
    private loaded: string,
  ) {
    this.seen = loaded;
    this.intervalMs = options.intervalMs ?? Math.min(1000, Math.max(50, options.debounceMs / 4));
  }

  /** Starts watching from the current state of `paths`. */
  static async start(options: KbWatcherOptions): Promise<KbWatcher> {
    const w = new KbWatcher(options, await fingerprint(options.paths));
    w.schedule();
    return w;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick().then(() => this.schedule(), () => this.schedule()), this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const fp = await fingerprint(this.options.paths);
    const now = Date.now();
    if (fp !== this.seen) {
      this.seen = fp;
      this.changedAt = now;
    } else if (fp !== this.loaded && now - this.changedAt >= this.options.debounceMs && !this.closed) {
      this.loaded = fp;
      await this.options.onChange();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * Serializes a reload: at most one run at a time; calls made during a run share one follow-up run
 * (the files may have changed after the running one read them).
 */
export function serialized<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let queued: Promise<T> | null = null;
  const start = (): Promise<T> => (running = run().finally(() => (running = null)));
  return () => {
    if (!running) return start();
    return (queued ??= running.then(
      () => ((queued = null), start()),
      () => ((queued = null), start()),
    ));
  };
}
