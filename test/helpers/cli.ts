/** Runs `logsift …` in-process with captured output. */
import { PassThrough, Readable } from 'node:stream';

import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], stdinText?: string | Buffer): Promise<CliResult> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  let stderr = '';
  const stdin = stdinText === undefined ? Readable.from([]) : Readable.from([Buffer.from(stdinText)]);
  const code = await main(argv, {
    out: (t) => void stdout.write(t),
    err: (t) => {
      stderr += t;
    },
    stdout,
    stdin,
  });
  stdout.end();
  return { code, stdout: Buffer.concat(chunks).toString('utf8'), stderr };
}
