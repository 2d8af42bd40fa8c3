/** One enrichment worker of the daemon (enrich-pool.ts): builds the main thread's enricher, enriches chunks. */
import { workerData } from 'node:worker_threads';

import { serveJobs, workerEnricher, type EnricherInit } from '../app/worker-pool.js';
import { packReply, unpackJob, type EnrichJob, type EnrichReply } from './enrich-pool.js';
import { enrichChunk } from './records.js';

serveJobs<EnrichJob, EnrichReply>(async () => {
  const { enricher, unicode } = await workerEnricher(workerData as EnricherInit);
  return {
    unicode,
    run: (job) => {
      const reply = packReply(enrichChunk(unpackJob(job), enricher, job.options, false));
      return { result: reply, transfer: [reply.values.buffer as ArrayBuffer, reply.columns.buffer as ArrayBuffer] };
    },
  };
});
