// Recording a run's end races with pauses, cancels and resumes from any process. Each test lets
// "another process" (a second connection to the same file) act right after the first store call
// the end makes: when the end is one transaction that checks the status it moves from, the row
// comes out as one of the two serial orders (the end first, or the other process first); when it
// is a read and then writes, the other process's change lands in between and the row is neither.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../src-main/api/config';
import { parseQueueAddress } from '../../../src-main/queue/address';
import { QueueCoordinator } from '../../../src-main/queue/coordinator';
import { putCheckpointChunks, queueKeys } from '../../../src-main/queue/protocol';
import { openStore, type Store } from '../../../src-main/store/db';
import { CheckpointFiles } from '../../../src-main/workbench/checkpointFiles';
import { ViewEvents, type TrainingIngest } from '../../../src-main/workbench/ingest';
import { RunQueue } from '../../../src-main/workbench/queue';
import { Workbench } from '../../../src-main/workbench/service';
import { openStoreThread, type RemoteStore } from '../../../src-main/workbench/storeThread';
import { tinyConfig } from '../../helpers/configs';
import { redisRequirement, startRedis, type RedisServer } from '../../helpers/redis';

const redis = redisRequirement(import.meta.filename);
const HERE = `${hostname()}:${process.pid}`;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vwb-run-end-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A second connection to the same file, as another app or CLI process would hold. */
function otherProcess(file: string): Store {
  const store = openStore(file);
  cleanups.push(() => store.close());
  return store;
}

/**
 * Wraps each method of a remote store group so that, once armed, `meanwhile` runs right after the
 * first call returns (before the caller's next call is sent), as if another process acted then.
 */
function interposeAfterFirstCall(group: Record<string, unknown>, meanwhile: () => void): { arm(): void } {
  let armed = false;
  for (const [name, method] of Object.entries(group)) {
    if (typeof method !== 'function') continue;
    group[name] = async (...args: unknown[]) => {
      const result: unknown = await (method as (...a: unknown[]) => Promise<unknown>)(...args);
      if (armed) {
        armed = false;
        try {
          meanwhile();
        } catch {
          // the other process's move is refused (the run ended first): that is one serial order
        }
      }
      return result;
    };
  }
  return { arm: () => (armed = true) };
}

const row = (store: Store, runId: string) => {
  const run = store.runs.require(runId);
  return { status: run.status, owner: run.owner, resumedCount: run.resumedCount, step: run.step };
};

describe('a local run end (RunQueue)', () => {
  it('does not complete a run another process paused, resumed and claimed in the meantime', async () => {
    const file = join(tempDb(), 'workbench.sqlite');
    const store: RemoteStore = await openStoreThread({ file, appVersion: 'test' });
    cleanups.push(() => store.close());
    const other = otherProcess(file);
    const { id: runId } = other.runs.create({ config: parseRunConfig(tinyConfig()) });
    await store.runs.updateStatus(runId, 'running'); // trained here: owner is this process

    const hook = interposeAfterFirstCall(store.runs as unknown as Record<string, unknown>, () =>
      other.transaction(() => {
        other.runs.updateStatus(runId, 'paused');
        other.runs.resume(runId);
        other.runs.updateStatus(runId, 'running');
        other.db.prepare("UPDATE runs SET owner = 'elsewhere:4242' WHERE id = ?").run(runId);
      }),
    );
    const queue = new RunQueue(store, new ViewEvents(), new CheckpointFiles(store, tempDb()), {
      claim: false,
      concurrency: 1,
    });
    queue.ingest = {
      settle: () => Promise.resolve(),
      release: () => ({ step: 16, epoch: 2 }),
    } as unknown as TrainingIngest;
    hook.arm();
    // What the worker thread's end calls (job.done -> finish): the trainer finished every step.
    await (queue as unknown as { finish(id: string, status: string, error: string | null): Promise<void> }).finish(
      runId,
      'completed',
      null,
    );

    const endFirst = { status: 'completed', owner: HERE, resumedCount: 0, step: 16 };
    const otherFirst = { status: 'running', owner: 'elsewhere:4242', resumedCount: 1, step: 0 };
    expect([endFirst, otherFirst]).toContainEqual(row(other, runId));
  });
});

describe.runIf(redis.ok)('a remote run end (QueueCoordinator)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('completes a run paused during its last step in one move, unless it was resumed first', async () => {
    const dir = tempDb();
    const workbench = await Workbench.open({ db: dir, runQueue: false });
    cleanups.push(() => workbench.close());
    const address = parseQueueAddress(server.url('run-end'));
    const coordinator = await QueueCoordinator.open(workbench, address, {
      follow: false,
      log: () => undefined,
    });
    cleanups.push(() => coordinator.close());
    const other = otherProcess(workbench.store.file);
    const { id: runId } = other.runs.create({ config: parseRunConfig(tinyConfig()) });
    // Handed to the queue, then paused from the workbench while its worker took the last step.
    other.transaction(() => {
      other.runs.updateStatus(runId, 'running');
      other.db.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(coordinator.owner, runId);
      other.runs.updateStatus(runId, 'paused', { step: 12, epoch: 1 });
    });

    // The worker's last checkpoint, still in Redis when the run ends.
    const redisClient = new Redis(address.redis);
    cleanups.push(() => redisClient.disconnect());
    const keys = queueKeys(address.name);
    await putCheckpointChunks(redisClient, keys, runId, 'c0-16', {
      step: 16,
      epoch: 2,
      kind: 'final',
      bytes: new Uint8Array(3e6),
    });
    expect(await redisClient.scard(keys.chunks(runId))).toBe(3);

    const hook = interposeAfterFirstCall(workbench.store.runs as unknown as Record<string, unknown>, () =>
      other.runs.resume(runId),
    );
    hook.arm();
    // The worker's 'finished' event: it completed all 16 steps before it saw the pause.
    await (
      coordinator as unknown as {
        finish(id: string, status: string, error: string | null, at: { step: number; epoch: number }): Promise<void>;
      }
    ).finish(runId, 'completed', null, { step: 16, epoch: 2 });

    const endFirst = { status: 'completed', owner: coordinator.owner, resumedCount: 0, step: 16 };
    const resumedFirst = { status: 'queued', owner: null, resumedCount: 1, step: 12 };
    const ended = row(other, runId);
    expect([endFirst, resumedFirst]).toContainEqual(ended);
    // A finished run's keys, its checkpoint chunks included, are gone from Redis (forget).
    if (ended.status === 'completed') expect(await redisClient.keys(`vwb:run-end:*${runId}*`)).toEqual([]);
  });
});
