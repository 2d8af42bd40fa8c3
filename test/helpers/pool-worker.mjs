// A worker for test/unit/app/worker-pool.test.ts, speaking src/app/worker-pool.ts's protocol by hand.
import { parentPort, workerData } from 'node:worker_threads';

if (workerData.fail) parentPort.postMessage({ type: 'failed', message: 'no KB' });
else {
  let unicode = [];
  parentPort.on('message', (m) => {
    if (m.type === 'unicode') {
      unicode = m.parts.flatMap((p) => p.ids);
      return;
    }
    if (m.job === 'exit') process.exit(3);
    if (m.job === 'throw') parentPort.postMessage({ type: 'job-failed', id: m.id, message: 'boom' });
    else if (m.job === 'unicode') parentPort.postMessage({ type: 'done', id: m.id, result: unicode.join(',') });
    else parentPort.postMessage({ type: 'done', id: m.id, result: m.job.toUpperCase() });
  });
  parentPort.postMessage({ type: 'ready' });
}
