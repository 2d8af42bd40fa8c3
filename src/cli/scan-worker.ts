/** One `logsift scan --threads` worker: loads the KB and matcher from the cache, renders batches. */
import { parentPort, workerData } from 'node:worker_threads';

import { Enricher } from '../enrich/index.js';
import { loadKnowledgeBaseCached } from '../kb/snapshot.js';
import { Matcher } from '../matcher/index.js';
import { renderBatch, toBytes } from './scan.js';
import type { ScanWorkerInit, WorkerReply, WorkerRequest } from './scan-pool.js';

const init = workerData as ScanWorkerInit;
const port = parentPort!;
const reply = (m: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function start(): Promise<{ enricher: Enricher; matcher: Matcher }> {
  const { kb } = await loadKnowledgeBaseCached(init.kbPaths, { allowInvalid: init.allowInvalid }, init.cacheDir);
  if (kb.version !== init.kbVersion) throw new Error(`the knowledge base changed while starting (${kb.version}, expected ${init.kbVersion})`);
  // The main thread compiled and cached the databases; the Unicode one may still be compiling there,
  // in which case it is posted here when ready ('unicode' message) and the exact engine serves meanwhile.
  const matcher = await Matcher.create(kb, { ignoreCase: init.ignoreCase, cacheDir: init.cacheDir, unicode: 'cache-only' });
  return { enricher: new Enricher(kb, matcher, { fields: init.fields, format: init.inputFormat }), matcher };
}

try {
  const { enricher, matcher } = await start();
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'unicode') {
      if (!matcher.unicodeComplete) matcher.attachUnicode(m.parts);
      return;
    }
    try {
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      const n = m.offsets.length - 1;
      const texts = new Array<string>(n);
      const sources = new Array<{ file: string; line: number }>(n);
      for (let i = 0; i < n; i++) {
        texts[i] = data.toString('utf8', m.offsets[i]!, m.offsets[i + 1]!);
        sources[i] = { file: init.fileName, line: m.lineNumbers[i]! };
      }
      const r = toBytes(renderBatch(enricher, texts, sources, init.emit, init.format));
      // Sent as bytes (transferred): the main thread writes them without encoding or copying.
      const text = new Uint8Array(r.text.buffer, r.text.byteOffset, r.text.byteLength);
      const own = text.byteOffset === 0 && text.byteLength === text.buffer.byteLength ? text : text.slice();
      reply({ type: 'result', id: m.id, text: own, cuts: r.cuts, primary: r.primary }, [own.buffer as ArrayBuffer, r.cuts.buffer as ArrayBuffer, r.primary.buffer as ArrayBuffer]);
    } catch (err) {
      reply({ type: 'batch-failed', id: m.id, message: (err as Error).message });
    }
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'failed', message: (err as Error).message });
}
