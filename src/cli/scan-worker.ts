/** One `logsift scan --threads` worker: builds the main thread's enricher, renders batches. */
import { workerData } from 'node:worker_threads';

import { serveJobs, workerEnricher } from '../app/worker-pool.js';
import type { MessageInput } from '../enrich/index.js';
import { renderBatch, type RenderedBatch } from './scan.js';
import type { ScanJob, ScanWorkerInit } from './scan-pool.js';

const init = workerData as ScanWorkerInit;

serveJobs<ScanJob, RenderedBatch>(async () => {
  const { enricher, unicode } = await workerEnricher(init);
  // Mining (`--suggest`) only: its module is not loaded otherwise.
  const select = init.render.mining === null ? undefined : (await import('../suggest/index.js')).errorTextSelector(init.render.mining);
  return {
    unicode,
    run: (m) => {
      const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      const n = m.offsets.length - 1;
      const inputs = new Array<MessageInput>(n);
      for (let i = 0; i < n; i++) {
        const source = { file: init.render.fileName, line: m.lineNumbers[i]! };
        inputs[i] = m.sizes[i]! >= 0 ? { value: null, size: m.sizes[i]!, source } : { value: data.subarray(m.offsets[i]!, m.offsets[i + 1]!), source };
      }
      const batch = renderBatch(enricher, inputs, init.render, select);
      // The text as UTF-8 bytes, transferred: the main thread writes them without encoding or copying.
      const bytes = Buffer.from(batch.text as string, 'utf8');
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? new Uint8Array(bytes.buffer) : new Uint8Array(bytes);
      return { result: { ...batch, text: own }, transfer: [own.buffer as ArrayBuffer] };
    },
  };
});
