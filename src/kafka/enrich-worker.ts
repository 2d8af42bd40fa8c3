/** One enrichment worker of the daemon (enrich-pool.ts): builds the main thread's enricher, enriches chunks. */
import { workerData } from 'node:worker_threads';

import { serveJobs, workerEnricher } from '../app/worker-pool.js';
import { ErrorTextSelector } from '../suggest/index.js';
import { packReply, unpackJob, type EnrichJob, type EnrichReply, type EnrichWorkerInit } from './enrich-pool.js';
import { enrichChunk, type MiningSelector } from './records.js';

serveJobs<EnrichJob, EnrichReply>(async () => {
  const init = workerData as EnrichWorkerInit;
  const { enricher, unicode } = await workerEnricher(init);
  let select: MiningSelector | undefined;
  if (init.mining !== null) {
    const selector = new ErrorTextSelector(init.mining);
    select = (text, log) => selector.select(text, log);
  }
  return {
    unicode,
    run: (job) => {
      const reply = packReply(enrichChunk(unpackJob(job), enricher, job.options, false, select));
      return { result: reply, transfer: [reply.values.buffer as ArrayBuffer, reply.columns.buffer as ArrayBuffer] };
    },
  };
});
