// Remote runs obey the workbench like local ones: pause and cancel reach the worker within
// seconds, resume continues from the pause checkpoint on the queue, and a worker refuses a job
// whose config fails validation or whose data set hash differs from the run's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseQueueAddress, type QueueAddress } from '../../../src-main/queue/address';
import { QueueCoordinator } from '../../../src-main/queue/coordinator';
import { RemoteWorker } from '../../../src-main/queue/remoteWorker';
import { Workbench } from '../../../src-main/workbench/service';
import { tinyConfig } from '../../helpers/configs';
import { redisRequirement, startRedis, type RedisServer } from '../../helpers/redis';

const redis = redisRequirement(import.meta.filename);
/**
 * The runs these tests stop mid-way: long enough (8 steps an epoch) that a pause or cancel, which
 * reaches the worker at its next poll, lands before the last step even with the fused native step.
 */
const EPOCHS = 40;
const TOTAL_STEPS = EPOCHS * 8;

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.runIf(redis.ok)('remote runs under the workbench', () => {
  let server: RedisServer;
  let address: QueueAddress;
  let workbench: Workbench;
  let coordinator: QueueCoordinator;
  let worker: RemoteWorker;
  const db = mkdtempSync(join(tmpdir(), 'vwb-control-'));
  beforeAll(async () => {
    server = await startRedis();
    address = parseQueueAddress(server.url('control'));
    workbench = await Workbench.open({ db, runQueue: false });
    coordinator = await QueueCoordinator.open(workbench, address, { heartbeatMs: 200, log: () => undefined });
    worker = new RemoteWorker(address, {
      concurrency: 1,
      backend: 'wasm',
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
      log: () => undefined,
    });
    await worker.ready();
  });
  afterAll(async () => {
    await worker?.close();
    await coordinator?.close();
    await workbench?.close();
    await server?.stop();
  });

  /** A queued run handed to the queue, once its worker has logged `step` steps. */
  async function remoteRunAt(step: number, train: Record<string, unknown> = {}): Promise<string> {
    const run = await workbench.createRun({ config: tinyConfig({ epochs: EPOCHS, ...train }) });
    await coordinator.submit([run.id]);
    await until(
      `run ${run.id} at step ${step}`,
      async () => (await workbench.getRun({ runId: run.id })).step >= step || null,
    );
    return run.id;
  }

  it('pause reaches the worker within seconds; resume continues from its checkpoint with every step once', async () => {
    const runId = await remoteRunAt(1);
    const asked = Date.now();
    await workbench.pauseRun({ runId });
    const checkpoint = await until('the pause checkpoint', async () => {
      const latest = (await workbench.getRun({ runId })).checkpoints.find((c) => c.kind === 'latest');
      return latest && !coordinator.inFlight.includes(runId) ? latest : null;
    });
    expect(Date.now() - asked).toBeLessThan(5000);
    const paused = await workbench.getRun({ runId });
    expect(paused.status).toBe('paused');
    expect(paused.step).toBe(checkpoint.step);
    expect(checkpoint.step).toBeLessThan(TOTAL_STEPS);

    await coordinator.resume(runId);
    const done = await workbench.waitForRun(runId);
    expect(done.status).toBe('completed');
    expect(done.step).toBe(TOTAL_STEPS);
    const points = await workbench.store.metrics.readSeriesRaw(runId, 'train/loss');
    expect(points.map((p) => p.step)).toEqual(Array.from({ length: TOTAL_STEPS }, (_, i) => i + 1));
    const attempts = await workbench.store.remote.attempts(runId);
    expect(attempts.map((a) => a.startStep)).toEqual([0, checkpoint.step]);
  });

  it('cancel reaches the worker within seconds and the run stays cancelled', async () => {
    const runId = await remoteRunAt(2);
    const asked = Date.now();
    await workbench.cancelRun({ runId });
    await until('the worker to stop', async () => worker.active.length === 0 && !coordinator.inFlight.includes(runId));
    expect(Date.now() - asked).toBeLessThan(5000);
    const run = await workbench.getRun({ runId });
    expect(run.status).toBe('cancelled');
    expect(run.step).toBeLessThan(TOTAL_STEPS);
  });

  it('a worker refuses a job whose config fails validation, naming the field', async () => {
    const queue = new Queue(address.name, { connection: new Redis(address.redis), prefix: 'bull' });
    try {
      const config = { ...tinyConfig(), train: { ...tinyConfig().train, epochs: -3 } };
      const job = await queue.add('train', {
        runId: '0badc0de',
        name: 'bad',
        config,
        resumedCount: 0,
        datasetHash: null,
      });
      const state = await until('the job to fail', async () => {
        const s = await job.getState();
        return s === 'failed' ? s : null;
      });
      expect(state).toBe('failed');
      const failed = await queue.getJob(job.id!);
      expect(failed?.failedReason).toMatch(/train\.epochs/);
      expect(failed?.attemptsMade).toBe(1); // not retried
    } finally {
      await queue.close();
    }
  });

  it('a worker refuses a run whose data set hash differs from the one recorded for it', async () => {
    const run = await workbench.createRun({ config: tinyConfig() });
    const watch = new Redis(address.redis);
    await watch.set(`vwb:${address.name}:dataset:${run.id}`, 'f'.repeat(64));
    watch.disconnect();
    await coordinator.submit([run.id]);
    const done = await workbench.waitForRun(run.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/sha256 [0-9a-f]{64}, the run's is f{64}/);
  });

  it('one coordinator follows a queue: a second is refused naming the first; a submit-only one hands runs over', async () => {
    const other = await Workbench.open({ db, runQueue: false }); // another process on the same data folder
    try {
      const refused = await QueueCoordinator.open(other, address, { log: () => undefined }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(refused?.message).toMatch(/Another coordinator \(.+:\d+\) follows the queue redis:\/\/:\*\*\*@/);
      const submitter = await QueueCoordinator.open(other, address, { follow: false, log: () => undefined });
      const run = await other.createRun({ config: tinyConfig({ epochs: 1 }) });
      await submitter.submit([run.id]);
      await submitter.close();
      // The following coordinator (this test's) takes the run up from its first event.
      const done = await until('the handed-over run to complete', async () => {
        const summary = await workbench.getRun({ runId: run.id });
        return summary.status === 'completed' ? summary : null;
      });
      expect(done.step).toBe(8);
      const points = await workbench.store.metrics.readSeriesRaw(run.id, 'train/loss');
      expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await other.close();
    }
  });

  it("the API's runOn: 'queue' hands a new run or sweep to the queue; without one attached it is refused", async () => {
    await expect(workbench.createRun({ config: tinyConfig({ epochs: 1 }), runOn: 'queue' })).rejects.toMatchObject({
      status: 409,
    });
    expect((await workbench.appInfo()).queue).toBeUndefined();
    workbench.attachRemote({ queue: address.redacted, submit: (ids) => coordinator.submit(ids) });
    try {
      expect((await workbench.appInfo()).queue).toBe(address.redacted);
      const run = await workbench.createRun({ config: tinyConfig({ epochs: 1 }), runOn: 'queue' });
      const sweep = await workbench.createGridSweep({
        config: tinyConfig({ epochs: 1 }),
        experiment: 'on-queue',
        grid: [{ param: 'train.seed', values: [5] }],
        runOn: 'queue',
      });
      for (const id of [run.id, sweep[0].id]) {
        expect((await workbench.waitForRun(id)).status).toBe('completed');
        expect((await workbench.store.remote.attempts(id)).map((a) => a.worker)).toHaveLength(1);
      }
    } finally {
      workbench.attachRemote(null);
    }
  });

  it('a worker that stops hands its run back: another worker continues it from the pause checkpoint', async () => {
    const runId = await remoteRunAt(2);
    const second = new RemoteWorker(address, { concurrency: 1, backend: 'wasm', log: () => undefined });
    await second.ready();
    const first = worker;
    worker = second; // afterAll closes this one
    await first.close();
    const done = await workbench.waitForRun(runId);
    expect(done.status).toBe('completed');
    const points = await workbench.store.metrics.readSeriesRaw(runId, 'train/loss');
    expect(points.map((p) => p.step)).toEqual(Array.from({ length: TOTAL_STEPS }, (_, i) => i + 1));
    const attempts = await workbench.store.remote.attempts(runId);
    expect(attempts).toHaveLength(2);
    expect(attempts[1].startStep).toBeGreaterThanOrEqual(2);
    expect(second.taken).toBe(1);
  });
});
