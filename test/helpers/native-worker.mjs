// A worker thread that loads the native addon on its own and scans with it (native-threads.test.ts).
// workerData: { addon, patterns, lines, mode: 'once' | 'forever' }.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const { addon, patterns, lines, mode } = workerData;
const native = createRequire(import.meta.url)(addon);
const db = await native.compile(patterns);
const scanner = new native.Scanner(db);
const data = Buffer.from(lines.join(''), 'utf8');
const offsets = new Uint32Array(lines.length + 1);
let pos = 0;
lines.forEach((l, i) => {
  offsets[i] = pos;
  pos += Buffer.byteLength(l, 'utf8');
});
offsets[lines.length] = pos;
const scanAll = () => Array.from(scanner.scan(data, offsets));
if (mode === 'forever') {
  parentPort.postMessage({ type: 'scanning', pairs: scanAll() });
  for (;;) scanAll();
} else {
  let pairs = [];
  for (let i = 0; i < 200; i++) pairs = scanAll();
  parentPort.postMessage({ type: 'done', pairs });
}
