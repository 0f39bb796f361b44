// The store on its worker thread: requests and replies with seq numbers, errors that keep their
// type across the boundary, and SQLite work that never holds the main thread.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../src-main/api/config';
import { InvalidTransitionError, NotFoundError } from '../../../src-main/store';
import { openStoreThread, type RemoteStore } from '../../../src-main/workbench/storeThread';

const open: RemoteStore[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

async function remoteStore(): Promise<RemoteStore> {
  const store = await openStoreThread({
    file: join(mkdtempSync(join(tmpdir(), 'vaewb-thread-')), 'db.sqlite'),
    appVersion: 'test',
  });
  open.push(store);
  return store;
}

describe('store worker', () => {
  it('answers concurrent requests each with its own reply, and errors keep their type and fields', async () => {
    const store = await remoteStore();
    const config = parseRunConfig({});
    const runs = await store.ops.createRuns(
      Array.from({ length: 5 }, (_, i) => ({ config, name: `r${i}` })),
      false,
    );
    const names = await Promise.all(runs.map((run) => store.runs.summary(run.id).then((s) => s.name)));
    expect(names).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);

    const missing = await store.runs.require('deadbeef').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as Error).message).toContain("No run with id 'deadbeef'");
    await store.runs.updateStatus(runs[0].id, 'cancelled');
    const refused = await store.runs.updateStatus(runs[0].id, 'running').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidTransitionError);
    expect(refused).toMatchObject({ runId: runs[0].id, from: 'cancelled', to: 'running' });
  });

  it('a long SQLite write runs beside the main thread, whose timers keep firing', async () => {
    const store = await remoteStore();
    const [run] = await store.ops.createRuns([{ config: parseRunConfig({}) }], false);
    const points = Array.from({ length: 100_000 }, (_, i) => ({
      runId: run.id,
      name: 'train/loss',
      step: i,
      epoch: 0,
      value: Math.sin(i),
      wallTime: 1_700_000_000_000 + i,
    }));
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    expect(await store.ops.appendMetrics(points)).toEqual([]);
    const took = performance.now() - started;
    clearInterval(timer);
    expect((await store.metrics.summary(run.id, 'train/loss'))?.count).toBe(100_000);
    // The write took far longer than the main thread was ever held (only the request's copy holds it).
    expect(maxGap).toBeLessThan(took / 2);
  });
});
