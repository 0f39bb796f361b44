// Many machines (issue #18) end to end: a real redis-server, two `vae-workbench worker` processes
// and a coordinator (`sweep --queue`) run a 2x2 grid of tiny runs. One worker is killed with
// SIGKILL mid-run and the coordinator is killed and restarted (`coordinate`) mid-sweep; every run
// must still complete in the coordinator's store with exactly its steps, images and final
// checkpoint, and the interrupted run must equal an uninterrupted one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openStore, type Store } from '../../../src-main/store';
import { Workbench } from '../../../src-main/workbench/service';
import { redisRequirement, startRedis, type RedisServer } from '../../helpers/redis';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'vae-workbench.js');
const redis = redisRequirement(import.meta.filename);

// 2048 images in batches of 32: 64 steps an epoch, 3 epochs, a checkpoint after each.
const STEPS_PER_EPOCH = 64;
const EPOCHS = 3;
const TOTAL = STEPS_PER_EPOCH * EPOCHS;
const TINY = [
  '--dataset', 'mnist', '--train-size', '2048', '--test-size', '32', '--epochs', String(EPOCHS),
  '--batch-size', '32', '--hidden', '32', '--latent-dim', '3', '--iwae-k', '4', '--iwae-examples', '8',
  '--grid-size', '4', '--backend', 'wasm',
]; // prettier-ignore

interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    // Short BullMQ locks: a killed worker's job is handed on within about two seconds.
    env: { ...process.env, VAE_WORKBENCH_QUEUE_LOCK_MS: '1500' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
}

function series(store: Store, runId: string, name: string): { step: number; value: number }[] {
  return store.db
    .prepare(
      `SELECT m.step, m.value FROM metrics m JOIN metric_series s ON s.id = m.series_id
       WHERE s.run_id = ? AND s.name = ? ORDER BY m.step`,
    )
    .all(runId, name) as { step: number; value: number }[];
}

describe.runIf(redis.ok)('a sweep on the queue (BullMQ on a real redis-server)', () => {
  let server: RedisServer;
  const children: Child[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await server?.stop();
  });

  it('completes every run once, through a killed worker and a restarted coordinator', async () => {
    const url = server.url('sweep');
    const db = mkdtempSync(join(tmpdir(), 'vwb-queue-'));
    const watch = new Redis({ host: '127.0.0.1', port: server.port, password: server.password });
    try {
      const workers = [0, 1].map(() => start(['worker', '--queue', url, '--backend', 'wasm']));
      children.push(...workers);
      await until('both workers', async () => workers.every((w) => w.output().includes('taking runs')), 60_000);
      const sweep = [
        'sweep',
        '--queue',
        url,
        '--experiment',
        'q',
        '--grid',
        'model.beta=1,2',
        '--grid',
        'train.seed=1,2',
      ];
      const coordinator = start(['--db', db, ...sweep, ...TINY]);
      children.push(coordinator);

      // Kill the worker of the first run to pass its first checkpoint, while it trains its second epoch.
      const progressKey = (runId: string) => `vwb:sweep:progress:${runId}`;
      const seen: string[] = [];
      const victim = await until(
        'a run in its second epoch',
        async () => {
          if (coordinator.process.exitCode !== null) throw new Error('the coordinator exited');
          for (const key of await watch.keys(progressKey('*'))) {
            const [position, worker] = ((await watch.get(key)) ?? '').split(' ');
            const step = Number(position.split('/')[0]);
            seen.push(`${key} ${step}`);
            if (step > STEPS_PER_EPOCH + 4 && step < 2 * STEPS_PER_EPOCH - 4)
              return { runId: key.split(':').at(-1)!, pid: Number(worker.split(':').at(-1)), step };
          }
          return null;
        },
        90_000,
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; seen ${seen.join(', ')}; coordinator: ${coordinator.output()}`);
      });
      const killed = workers.find((w) => w.process.pid === victim.pid)!;
      expect(killed).toBeDefined();
      killed.process.kill('SIGKILL');
      const survivor = workers.find((w) => w !== killed)!;

      // Then the coordinator, mid-sweep; the workers go on, and their events wait in the stream.
      await new Promise((resolve) => setTimeout(resolve, 800));
      coordinator.process.kill('SIGKILL');
      await coordinator.exited;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const stored = openStore(join(db, 'workbench.sqlite'));
      const position = stored.remote.streamPosition(new URL(url.replace(server.password, '***')).href);
      stored.close();
      const missed = await watch.xrange('vwb:sweep:events', `(${position}`, '+');
      expect(missed.length).toBeGreaterThan(0); // events the dead coordinator never read

      const restarted = start(['--db', db, 'coordinate', '--queue', url]);
      children.push(restarted);
      expect(await restarted.exited).toBe(0);

      const store = openStore(join(db, 'workbench.sqlite'));
      try {
        const runs = store.runs.list({ experiment: 'q' });
        expect(runs).toHaveLength(4);
        for (const run of runs) {
          expect(run.status).toBe('completed');
          expect(run.totalSteps).toBe(TOTAL);
          const loss = series(store, run.id, 'train/loss');
          expect(loss.map((p) => p.step)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
          expect(series(store, run.id, 'test/elbo').map((p) => p.step)).toEqual([64, 128, 192]);
          for (const kind of ['samples', 'reconstructions', 'traversal'] as const)
            expect(store.images.list(run.id, kind).map((i) => i.step)).toEqual([64, 128, 192]);
          const final = store.checkpoints.latest(run.id, 'latest');
          expect(final?.step).toBe(TOTAL);
          expect(run.backend).toMatch(/^wasm/);
        }
        // Each worker trained at least one run; the killed run's second attempt resumed from a checkpoint.
        const attempts = runs.flatMap((run) => store.remote.attempts(run.id));
        const pids = new Set(attempts.map((a) => Number(a.worker.split(':').at(-1))));
        expect(pids).toEqual(new Set(workers.map((w) => w.process.pid)));
        const resumed = store.remote.attempts(victim.runId);
        expect(resumed).toHaveLength(2);
        expect(resumed[0].worker).toMatch(new RegExp(`:${killed.process.pid}$`));
        expect(resumed[1].worker).toMatch(new RegExp(`:${survivor.process.pid}$`));
        expect([STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]).toContain(resumed[1].startStep);
        // The password is used, never stored or printed.
        for (const run of runs) expect(store.runs.get(run.id)!.owner).not.toContain(server.password);
        expect(store.remote.get(victim.runId)!.queue).toBe(`redis://:***@127.0.0.1:${server.port}/0?queue=sweep`);
        for (const child of [...workers, coordinator, restarted]) expect(child.output()).not.toContain(server.password);

        // `show` names who trained each attempt.
        const shown = spawnSync(process.execPath, [BIN, '--db', db, 'show', victim.runId, '--json'], {
          encoding: 'utf8',
        });
        const remote = (JSON.parse(shown.stdout) as { remote: { attempts: { worker: string; startStep: number }[] } })
          .remote;
        expect(remote.attempts.map((a) => a.startStep)).toEqual([0, resumed[1].startStep]);

        // The interrupted run equals the same config trained in one go, in this process.
        const victimRun = store.runs.get(victim.runId)!;
        const victimLoss = series(store, victim.runId, 'train/loss');
        const victimElbo = series(store, victim.runId, 'test/elbo');
        store.close();
        const local = await Workbench.open({ db: mkdtempSync(join(tmpdir(), 'vwb-queue-ref-')), runQueue: false });
        try {
          const reference = await local.createRun({ config: victimRun.config }, { startHere: true });
          expect((await local.waitForRun(reference.id)).status).toBe('completed');
          const [referenceLoss, referenceElbo] = await Promise.all(
            ['train/loss', 'test/elbo'].map((metric) =>
              local.getSeries({ runIds: [reference.id], metric, maxBuckets: 10_000 }),
            ),
          );
          expect(victimLoss.map((p) => p.value)).toEqual(referenceLoss[0].buckets.map((b) => b.last));
          expect(victimElbo.map((p) => p.value)).toEqual(referenceElbo[0].buckets.map((b) => b.last));
        } finally {
          await local.close();
        }
      } finally {
        if (store.db.open) store.close();
      }
    } finally {
      watch.disconnect();
    }
  }, 240_000);
});
