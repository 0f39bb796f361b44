// The BLAS thread policy (training/backend.ts blasThreadsPolicy, native/src/sgemm.cc): unset, each
// product uses the fair share of the cores among the threads of the process using the native kernel
// (a run alone every core, two runs half each, at least one); VAE_WORKBENCH_BLAS_THREADS pins a count.
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blasThreadsPolicy } from '../../../src-main/training/backend';
import { loadSgemmAddon } from '../../../src-main/training/accelerate';
import { requirement } from '../../helpers/requirements';

const addon = loadSgemmAddon().addon;
requirement(
  import.meta.filename,
  addon !== null,
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
);
const saved = process.env.VAE_WORKBENCH_BLAS_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.VAE_WORKBENCH_BLAS_THREADS;
  else process.env.VAE_WORKBENCH_BLAS_THREADS = saved;
  addon?.setThreadsCap(0);
});

describe('BLAS thread policy', () => {
  it('reads VAE_WORKBENCH_BLAS_THREADS: unset or share = fair share (0), n = pinned, junk refused', () => {
    delete process.env.VAE_WORKBENCH_BLAS_THREADS;
    expect(blasThreadsPolicy()).toBe(0);
    process.env.VAE_WORKBENCH_BLAS_THREADS = 'share';
    expect(blasThreadsPolicy()).toBe(0);
    process.env.VAE_WORKBENCH_BLAS_THREADS = '3';
    expect(blasThreadsPolicy()).toBe(3);
    process.env.VAE_WORKBENCH_BLAS_THREADS = '0';
    expect(() => blasThreadsPolicy()).toThrow(/positive integer or 'share'/);
  });

  it.skipIf(!addon)('a run alone gets every core; a second run halves the share; a pin caps it', async () => {
    const a = addon!;
    a.setThreadsCap(0);
    a.acquire();
    const cores = a.threadsPlan().cores;
    expect(a.threadsPlan()).toEqual({ users: 1, cores, threads: cores });
    // A second user in another thread (a second training worker), holding its share until told.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { addon } = require(${JSON.stringify(join(import.meta.dirname, '../../../native/index.cjs'))});
       addon.acquire();
       parentPort.postMessage('acquired');
       parentPort.once('message', () => { addon.release(); parentPort.postMessage('released'); });`,
      { eval: true },
    );
    const next = () => new Promise((resolve) => worker.once('message', resolve));
    expect(await next()).toBe('acquired');
    expect(a.threadsPlan()).toEqual({ users: 2, cores, threads: Math.max(1, Math.floor(cores / 2)) });
    worker.postMessage('release');
    expect(await next()).toBe('released');
    await worker.terminate();
    expect(a.threadsPlan().threads).toBe(cores);
    expect(a.setThreadsCap(1)).toBe(1);
    a.release();
  });
});
