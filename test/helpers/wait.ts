import { randomBytes } from 'node:crypto';

/** Polls `condition` until it holds; fails with `message` after `timeoutMs`. No sleeps in tests. */
export async function waitFor<T>(condition: () => T | false | undefined | null | Promise<T | false | undefined | null>, message: string, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const randomName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
