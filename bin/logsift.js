#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (`npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('logsift: not built yet: run `npm run build` (or scripts/setup.sh) first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
