// The queue's overhead (issue #18), on a redis-server started here on a free loopback port:
//
//   1. one run trained in this process (the workbench's worker thread) against the same run
//      through the queue, on one `vae-workbench worker` process on this machine: training samples/s
//      (the median over steps of the trainer's own batch / step time) and the end-to-end time
//      (created -> completed in the store). Which goes first alternates per repeat; the ratio is
//      taken within each repeat, then the median. Target: queue >= 0.95 x in-process.
//   2. ingest: four producers at once (each one connection, as four workers are) stream metric
//      batches of a run each through the protocol's entries; the coordinator stores them through the
//      training ingest. Points per second from the first entry sent to the last run's end recorded.
//
//   node --import tsx bench/queue.ts [--json] [--repeats 3] [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RunConfigInput } from '../src-main/api/config';
import type { MetricPoint } from '../src-main/api/contract';
import { parseQueueAddress } from '../src-main/queue/address';
import { QueueCoordinator } from '../src-main/queue/coordinator';
import { encodeEntry, queueKeys, SEQ_PER_ATTEMPT } from '../src-main/queue/protocol';
import { Workbench } from '../src-main/workbench/service';
import { startRedis } from '../tests/helpers/redis';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'vae-workbench.js');

export interface QueueBench {
  config: string;
  repeats: { inProcess: number; queue: number; ratio: number; inProcessSeconds: number; queueSeconds: number }[];
  /** Median over repeats of queue / in-process training samples/s. */
  ratio: number;
  inProcessSamplesPerSec: number;
  queueSamplesPerSec: number;
  inProcessSeconds: number;
  queueSeconds: number;
  ingest: { producers: number; points: number; entries: number; seconds: number; pointsPerSec: number };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Training samples/s of a stored run: the median over its steps of the trainer's own per-step
 * figure (train/samples_per_sec = batch / step time), robust to bursts of load from other work.
 */
async function trainingSpeed(workbench: Workbench, runId: string): Promise<number> {
  const points = await workbench.store.metrics.readSeriesRaw(runId, 'train/samples_per_sec');
  return median(points.map((p) => p.value));
}

export async function benchQueue(options: {
  repeats: number;
  quick: boolean;
  log: (line: string) => void;
}): Promise<QueueBench> {
  const found = spawnSync('redis-server', ['--version']);
  if (found.status !== 0) throw new Error('no redis-server (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'vwb-bench-queue-'));
  const redis = await startRedis();
  const url = redis.url('bench');
  const address = parseQueueAddress(url);
  const batchSize = 128;
  const config: RunConfigInput = {
    model: { hidden: [512], latentDim: 32 },
    data: { dataset: 'mnist', trainSize: options.quick ? 3200 : 12_800, testSize: 500, binarization: 'dynamic' },
    train: { epochs: 2, batchSize, lr: 1e-3, seed: 3, backend: 'wasm' },
    eval: { iwaeK: 8, iwaeExamples: 100, gridSize: 8 },
  };
  const label = `784-512-32 MLP VAE, batch ${batchSize}, ${config.data!.trainSize} images x 2 epochs, wasm`;
  const worker = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--backend', 'wasm'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const workbench = await Workbench.open({ db: join(dir, 'store'), runQueue: false });
  const coordinator = await QueueCoordinator.open(workbench, address, { log: () => undefined });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      worker.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('taking runs')) resolve();
      });
      worker.once('exit', (code) => reject(new Error(`the worker exited with ${code}`)));
    });
    const repeats: QueueBench['repeats'] = [];
    for (let r = 0; r < options.repeats; r++) {
      // Which goes first alternates, so a drift in the machine's load favours neither.
      const queueFirst = r % 2 === 1;
      options.log(`  [${r + 1}/${options.repeats}] queue: one run in-process and one through one worker ...`);
      const inProcessRun = async () => {
        const started = Date.now();
        const run = await workbench.createRun({ config }, { startHere: true });
        const done = await workbench.waitForRun(run.id);
        if (done.status !== 'completed') throw new Error(`the in-process run ${done.status}: ${done.error}`);
        return { id: run.id, seconds: (Date.now() - started) / 1000 };
      };
      const queuedRun = async () => {
        const started = Date.now();
        const run = await workbench.createRun({ config });
        await coordinator.submit([run.id]);
        const done = await workbench.waitForRun(run.id);
        if (done.status !== 'completed') throw new Error(`the queued run ${done.status}: ${done.error}`);
        return { id: run.id, seconds: (Date.now() - started) / 1000 };
      };
      let local: { id: string; seconds: number };
      let remote: { id: string; seconds: number };
      if (queueFirst) {
        remote = await queuedRun();
        local = await inProcessRun();
      } else {
        local = await inProcessRun();
        remote = await queuedRun();
      }
      const inProcessSeconds = local.seconds;
      const queueSeconds = remote.seconds;
      const inProcess = await trainingSpeed(workbench, local.id);
      const queue = await trainingSpeed(workbench, remote.id);
      repeats.push({ inProcess, queue, ratio: queue / inProcess, inProcessSeconds, queueSeconds });
    }

    // No worker from here on: the ingest runs' jobs wait in the queue while the producers speak for them.
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
    options.log('  queue: ingest from four producers at once ...');
    const ingest = await benchIngest(workbench, coordinator, address, options.quick ? 20_000 : 100_000);
    return {
      config: label,
      repeats,
      ratio: median(repeats.map((r) => r.ratio)),
      inProcessSamplesPerSec: median(repeats.map((r) => r.inProcess)),
      queueSamplesPerSec: median(repeats.map((r) => r.queue)),
      inProcessSeconds: median(repeats.map((r) => r.inProcessSeconds)),
      queueSeconds: median(repeats.map((r) => r.queueSeconds)),
      ingest,
    };
  } finally {
    if (worker.exitCode === null) worker.kill('SIGTERM');
    await coordinator.close();
    await workbench.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Four producers, one run each, `pointsPerRun` metric points in entries of 10 steps x 10 metrics. */
async function benchIngest(
  workbench: Workbench,
  coordinator: QueueCoordinator,
  address: ReturnType<typeof parseQueueAddress>,
  pointsPerRun: number,
): Promise<QueueBench['ingest']> {
  const producers = 4;
  const keys = queueKeys(address.name);
  const names = Array.from({ length: 10 }, (_, i) => `train/bench_${i}`);
  const stepsPerEntry = 10;
  const entriesPerRun = Math.ceil(pointsPerRun / (names.length * stepsPerEntry));
  const totalSteps = entriesPerRun * stepsPerEntry;
  const runs = [];
  for (let p = 0; p < producers; p++) {
    const run = await workbench.createRun({
      config: { data: { dataset: 'mnist', trainSize: 1000 }, train: { seed: p, backend: 'wasm' } },
    });
    runs.push(run.id);
  }
  await coordinator.submit(runs);
  const started = Date.now();
  const sender = { worker: `${hostname()}:bench`, host: hostname() };
  await Promise.all(
    runs.map(async (runId) => {
      const client = new Redis(address.redis);
      let n = 0;
      const seq = () => SEQ_PER_ATTEMPT + ++n;
      const send = (event: Parameters<typeof encodeEntry>[4]) =>
        client.xadd(keys.events, '*', ...encodeEntry(runId, 1, seq(), sender, event));
      await send({
        type: 'started',
        backend: 'bench',
        backendNotes: [],
        datasetHash: 'b'.repeat(64),
        datasetSource: 'bench',
        testSetHash: 'c'.repeat(64),
        testSplit: 'seeded',
        totalSteps,
        stepsPerEpoch: totalSteps,
        startStep: 0,
      });
      for (let e = 0; e < entriesPerRun; e++) {
        const points: MetricPoint[] = [];
        for (let s = 1; s <= stepsPerEntry; s++) {
          const step = e * stepsPerEntry + s;
          for (const name of names) points.push({ name, step, epoch: 0, value: Math.sin(step), wallTime: Date.now() });
        }
        await send({ type: 'metrics', points });
      }
      await send({ type: 'finished', status: 'completed', step: totalSteps, epoch: 0, error: null });
      client.disconnect();
    }),
  );
  const done = await Promise.all(runs.map((runId) => workbench.waitForRun(runId)));
  const seconds = (Date.now() - started) / 1000;
  const points = producers * totalSteps * names.length;
  for (const run of done) if (run.status !== 'completed') throw new Error(`ingest run ${run.id} ${run.status}`);
  const stored = await workbench.store.metrics.summary(runs[0], names[0]);
  if (stored?.count !== totalSteps) throw new Error(`ingest stored ${stored?.count} of ${totalSteps} points`);
  return { producers, points, entries: producers * (entriesPerRun + 2), seconds, pointsPerSec: points / seconds };
}

export function formatQueueBench(result: QueueBench): string[] {
  const fmt = (n: number, digits = 0) =>
    n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return [
    `queue (${result.config}): in-process ${fmt(result.inProcessSamplesPerSec)} samples/s, through one local worker ${fmt(result.queueSamplesPerSec)} samples/s = ${result.ratio.toFixed(2)}x (per repeat ${result.repeats.map((r) => r.ratio.toFixed(2)).join(', ')}); end to end ${fmt(result.inProcessSeconds, 1)} s vs ${fmt(result.queueSeconds, 1)} s`,
    `queue ingest: ${result.ingest.producers} producers at once, ${fmt(result.ingest.points)} points in ${fmt(result.ingest.entries)} entries: ${fmt(result.ingest.pointsPerSec)} points/s`,
    `  [${result.ratio >= 0.95 ? 'met' : 'NOT met'}] queue samples/s >= 0.95x in-process: ${result.ratio.toFixed(2)}x`,
  ];
}

if (import.meta.filename === process.argv[1]) {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const at = argv.indexOf('--repeats');
  const repeats = at >= 0 ? Number(argv[at + 1]) : 3;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const result = await benchQueue({ repeats, quick: argv.includes('--quick'), log });
  process.stdout.write(
    json
      ? `${JSON.stringify({ queue: result, loadAverage: loadavg() }, null, 2)}\n`
      : `${formatQueueBench(result).join('\n')}\n(load average ${loadavg()
          .map((v) => v.toFixed(2))
          .join(' ')})\n`,
  );
}
