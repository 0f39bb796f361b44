// Worker-thread entry: trains the one run described in workerData and posts its events.
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainJob } from './events';
import { train } from './trainer';

const { job, control } = workerData as { job: TrainJob; control: SharedArrayBuffer };
if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

void train(job, new Int32Array(control), (event, transfer) => port.postMessage(event, transfer ?? [])).then(() => {
  port.close();
});
