/** One `logsift scan --threads` worker: builds the main thread's enricher, renders batches. */
import { parentPort, workerData } from 'node:worker_threads';

import { Enricher, type MessageInput } from '../enrich/index.js';
import { KnowledgeBase } from '../kb/knowledge-base.js';
import { Matcher } from '../matcher/index.js';
import { renderBatch } from './scan.js';
import type { ScanWorkerInit, WorkerReply, WorkerRequest } from './scan-pool.js';

const init = workerData as ScanWorkerInit;
const port = parentPort!;
const reply = (m: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function start(): Promise<{ enricher: Enricher; matcher: Matcher }> {
  const kb = new KnowledgeBase(init.kb);
  // The main thread compiled and cached the databases; the Unicode one may still be compiling there,
  // in which case it is posted here when ready ('unicode' message) and the exact engine serves meanwhile.
  const matcher = await Matcher.create(kb, { ...init.matcher, unicode: 'cache-only' });
  return { enricher: new Enricher(kb, matcher, init.enrich), matcher };
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
      const inputs = new Array<MessageInput>(n);
      for (let i = 0; i < n; i++) {
        const source = { file: init.render.fileName, line: m.lineNumbers[i]! };
        inputs[i] = m.sizes[i]! >= 0 ? { value: null, size: m.sizes[i]!, source } : { value: data.subarray(m.offsets[i]!, m.offsets[i + 1]!), source };
      }
      const batch = renderBatch(enricher, inputs, init.render);
      // The text as UTF-8 bytes, transferred: the main thread writes them without encoding or copying.
      const bytes = Buffer.from(batch.text as string, 'utf8');
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? new Uint8Array(bytes.buffer) : new Uint8Array(bytes);
      reply({ type: 'result', id: m.id, batch: { ...batch, text: own } }, [own.buffer as ArrayBuffer]);
    } catch (err) {
      reply({ type: 'batch-failed', id: m.id, message: (err as Error).message });
    }
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'failed', message: (err as Error).message });
}
