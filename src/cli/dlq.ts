import type { Output } from './common.js';

export async function dlqCommand(_args: string[], io: Output): Promise<number> {
  io.err('logsift dlq: not built yet\n');
  return 1;
}
