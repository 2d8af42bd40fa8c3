#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (`npm run build`).
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node's on-disk compile cache (Node 22.1+) for the modules imported below: a start then skips
// parsing and compiling them. In $NODE_COMPILE_CACHE, else <tmpdir>/node-compile-cache; off with
// NODE_DISABLE_COMPILE_CACHE=1. A directory that cannot be written only means no cache.
module.enableCompileCache?.();

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('logsift: not built yet: run `npm run build` (or scripts/setup.sh) first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
