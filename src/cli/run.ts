import type { Output } from './common.js';

export async function runCommand(_args: string[], io: Output): Promise<number> {
  io.err('logsift run: not built yet\n');
  return 1;
}
