/** One enrichment worker of the daemon (enrich-pool.ts): builds the main thread's enricher, enriches chunks. */
import { workerData } from 'node:worker_threads';

import { serveJobs, workerEnricher } from '../app/worker-pool.js';
import { errorTextSelector } from '../suggest/index.js';
import { enrichJob, type EnrichJob, type EnrichReply, type EnrichWorkerInit } from './enrich-pool.js';
import { enrichChunk } from './records.js';

serveJobs<EnrichJob, EnrichReply>(async () => {
  const init = workerData as EnrichWorkerInit;
  const { enricher, unicode } = await workerEnricher(init);
  const select = errorTextSelector(init.mining);
  return {
    unicode,
    run: (job) => {
      const reply = enrichJob(job, (messages) => enrichChunk(messages, enricher, job.options, false, select));
      return { result: reply, transfer: [reply.values.buffer as ArrayBuffer, reply.columns.buffer as ArrayBuffer] };
    },
  };
});
