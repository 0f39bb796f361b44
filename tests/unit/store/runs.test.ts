import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidTransitionError, NotFoundError } from '../../../src-main/store/errors';
import { RESUMABLE_STATUSES, RUN_STATUSES, STATUS_TRANSITIONS, type RunStatus } from '../../../src-main/store/runs';
import type { Store } from '../../../src-main/store/db';
import type { ImageKind } from '../../../src-main/api/contract';
import { cleanup, config, countRows, openAgain, openTempStore, range, seriesPoints } from './helpers';

afterEach(cleanup);

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const SHA = 'ab'.repeat(32);

/** Puts a run straight into a status, as if it had got there earlier. */
function forceStatus(
  store: Store,
  runId: string,
  status: RunStatus,
  owner: string | null = null,
  heartbeatAt = Date.now(),
): void {
  store.db
    .prepare('UPDATE runs SET status = ?, owner = ?, heartbeat_at = ? WHERE id = ?')
    .run(status, owner, heartbeatAt, runId);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('runs', () => {
  it('createRun stores a queued run with an 8-hex id, its config, experiment and tags', () => {
    const store = openTempStore({ appVersion: '0.1.0' });
    const cfg = config({
      model: { kind: 'beta-vae', beta: 4 },
      data: { dataset: '/data/shapes.npy', trainSize: 1000 },
      train: { seed: 7, batchSize: 100, epochs: 3 },
    });
    const run = store.runs.create({ config: cfg, experimentName: 'beta sweep', tags: ['sweep', ' beta4 '] });
    expect(run.id).toMatch(/^[0-9a-f]{8}$/);
    expect(run).toMatchObject({
      status: 'queued',
      name: 'beta-vae-shapes-s7',
      seed: 7,
      modelKind: 'beta-vae',
      dataset: '/data/shapes.npy',
      appVersion: '0.1.0',
      experiment: 'beta sweep',
      tags: ['beta4', 'sweep'],
      totalSteps: 30,
      step: 0,
      resumedCount: 0,
      startedAt: null,
      finishedAt: null,
    });
    expect(run.config).toEqual(cfg);
    expect(store.experiments.getOrCreate('beta sweep').id).toBe(run.experimentId);
    expect(() => store.experiments.create('beta sweep')).toThrow(/already exists/);
    expect(store.experiments.list()).toMatchObject([{ name: 'beta sweep', runCount: 1 }]);
    expect(store.runs.resolveId(run.id.slice(0, 5).toUpperCase())).toBe(run.id);
  });

  it('a replay points at its original, which must exist', () => {
    const store = openTempStore();
    const original = store.runs.create({ config: config() });
    expect(store.runs.create({ config: original.config, replayOf: original.id }).replayOf).toBe(original.id);
    expect(() => store.runs.create({ config: config(), replayOf: 'deadbeef' })).toThrow(NotFoundError);
    expect(countRows(store, 'runs')).toBe(2);
  });

  it('listRuns gives newest first, with experiment, tags and the final value of a few metrics, and filters', () => {
    const store = openTempStore();
    const a = store.runs.create({ config: config(), experimentName: 'x', tags: ['keep'] });
    const b = store.runs.create({ config: config() });
    store.db.prepare('UPDATE runs SET created_at = created_at - 1000 WHERE id = ?').run(a.id);
    store.metricsWriter.append([
      ...seriesPoints(a.id, 'test/elbo', [10, 20], (s) => -100 + s),
      ...seriesPoints(a.id, 'train/loss', [20], () => 3.25),
    ]);
    store.runs.updateStatus(b.id, 'running');

    const all = store.runs.list();
    expect(all.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(all[1]).toMatchObject({ experiment: 'x', tags: ['keep'] });
    // The last value of each headline metric the run has logged, and no others.
    expect(all[1].final).toEqual({ 'test/elbo': -80, 'train/loss': 3.25 });
    expect(all[0].final).toEqual({});
    // A summary is the API's record: none of the store's bookkeeping columns leave the store.
    expect(Object.keys(all[1])).not.toContain('owner');
    expect(Object.keys(all[1])).not.toContain('resumedCount');
    expect(store.runs.summary(a.id)).toEqual(all[1]);
    expect(store.runs.list({ tag: 'keep' }).map((r) => r.id)).toEqual([a.id]);
    expect(store.runs.list({ experiment: 'x' }).map((r) => r.id)).toEqual([a.id]);
    expect(store.runs.list({ status: ['running', 'paused'] }).map((r) => r.id)).toEqual([b.id]);
    expect(store.runs.list({ limit: 1, offset: 1, metrics: ['train/loss'] })).toMatchObject([
      { id: a.id, final: { 'train/loss': 3.25 } },
    ]);
  });

  it('updateStatus allows exactly the lifecycle transitions', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    const outcomes: string[] = [];
    for (const from of RUN_STATUSES) {
      for (const to of RUN_STATUSES) {
        forceStatus(store, run.id, from);
        let allowed = true;
        try {
          expect(store.runs.updateStatus(run.id, to).status).toBe(to);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidTransitionError);
          allowed = false;
        }
        if (allowed) outcomes.push(`${from}->${to}`);
      }
    }
    // The policy, spelled out: nothing leaves a finished state through updateStatus (resume does that).
    expect(outcomes.sort()).toEqual(
      [
        'queued->running',
        'queued->cancelled',
        'queued->failed',
        'running->paused',
        'running->completed',
        'running->failed',
        'running->cancelled',
        'running->diverged',
        'running->interrupted',
        'paused->running',
        'paused->cancelled',
        'paused->failed',
      ].sort(),
    );
    expect(outcomes.length).toBe(RUN_STATUSES.reduce((n, from) => n + STATUS_TRANSITIONS[from].length, 0));
  });

  it('records start, finish, owner, error and the step a run diverged at', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    const running = store.runs.updateStatus(run.id, 'running');
    expect(running.startedAt).not.toBeNull();
    expect(running.owner).toBe(`${os.hostname()}:${process.pid}`);
    expect(running.finishedAt).toBeNull();
    const diverged = store.runs.updateStatus(run.id, 'diverged', {
      step: 1234,
      epoch: 3,
      error: 'train/loss is NaN at step 1234',
    });
    expect(diverged).toMatchObject({
      status: 'diverged',
      step: 1234,
      epoch: 3,
      error: 'train/loss is NaN at step 1234',
    });
    expect(diverged.finishedAt).toBeGreaterThanOrEqual(running.startedAt!);
    expect(() => store.runs.updateStatus(run.id, 'running')).toThrow(/diverged.*running.*duplicate/);
  });

  it('stores the backend notes of each start in their column, replaced by the next start, and lists them', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    expect(run.backendNotes).toEqual([]);
    const column = () => store.db.prepare('SELECT backend_notes FROM runs WHERE id = ?').pluck().get(run.id);
    expect(column()).toBeNull();

    const first = [
      'webgpu skipped: no GPU driver found (no Vulkan ICD but software ones)',
      'BLAS: 2 thread(s) at the start; native sgemm',
    ];
    store.runs.setInfo(run.id, { backend: 'wasm+native-sgemm(Haswell)', backendNotes: first });
    expect(column()).toBe(JSON.stringify(first));
    expect(store.runs.get(run.id)!.backendNotes).toEqual(first);
    expect(store.runs.summary(run.id).backendNotes).toEqual(first);
    expect(store.runs.list().find((r) => r.id === run.id)!.backendNotes).toEqual(first);

    // Other info leaves the notes as they are; a later start (a resume) replaces them whole.
    store.runs.setInfo(run.id, { totalSteps: 12 });
    expect(store.runs.get(run.id)!.backendNotes).toEqual(first);
    const second = ['webgpu faster in calibration: 3.1 ms/step vs 9.8 ms/step on wasm'];
    store.runs.setInfo(run.id, { backendNotes: second });
    expect(store.runs.get(run.id)!.backendNotes).toEqual(second);
    store.runs.setInfo(run.id, { backendNotes: [] });
    expect(column()).toBe('[]');

    // The column holds a JSON array or nothing.
    expect(() => store.db.prepare('UPDATE runs SET backend_notes = \'{"a":1}\' WHERE id = ?').run(run.id)).toThrow(
      /CHECK constraint failed/,
    );
  });
  it('resume is allowed from paused, interrupted, failed and cancelled only, and drops steps after the checkpoint', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    for (const from of RUN_STATUSES) {
      forceStatus(store, run.id, from);
      if (RESUMABLE_STATUSES.includes(from)) expect(store.runs.resume(run.id).status).toBe('queued');
      else expect(() => store.runs.resume(run.id)).toThrow(InvalidTransitionError);
    }
    expect(store.runs.get(run.id)!.resumedCount).toBe(4);

    store.metricsWriter.append(seriesPoints(run.id, 'train/loss', range(0, 500), (s) => s));
    store.images.add({ runId: run.id, step: 200, epoch: 1, kind: 'samples', png: PNG, width: 2, height: 2 });
    store.images.add({ runId: run.id, step: 400, epoch: 2, kind: 'samples', png: PNG, width: 2, height: 2 });
    for (const step of [200, 400])
      store.latents.put({
        runId: run.id,
        step,
        epoch: step / 200,
        count: 1,
        dims: 2,
        means: new Float32Array(2),
        labels: null,
      });
    forceStatus(store, run.id, 'interrupted');
    store.db.prepare("UPDATE runs SET error = 'killed', finished_at = 1 WHERE id = ?").run(run.id);
    const resumed = store.runs.resume(run.id, { fromStep: 299 });
    expect(resumed).toMatchObject({ status: 'queued', resumedCount: 5, error: null, finishedAt: null, step: 299 });
    expect(store.metrics.summary(run.id, 'train/loss')).toMatchObject({ count: 300, maxStep: 299 });
    expect(store.images.list(run.id).map((i) => i.step)).toEqual([200]);
    // The latent scatter's evaluation after the checkpoint goes too (it was kept before).
    expect(store.latents.steps(run.id).map((l) => l.step)).toEqual([200]);
  });

  it('claimNext hands each queued run to one claimer only, oldest first', () => {
    const app = openTempStore();
    const cli = openAgain(app);
    const first = app.runs.create({ config: config() });
    app.db.prepare('UPDATE runs SET created_at = 0 WHERE id = ?').run(first.id);
    const second = app.runs.create({ config: config() });
    expect(cli.runs.claimNext()!.id).toBe(first.id);
    expect(app.runs.claimNext()!.id).toBe(second.id);
    expect(app.runs.claimNext()).toBeNull();
  });

  it('heartbeat records progress, and says false once the run was stopped elsewhere', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    store.runs.updateStatus(run.id, 'running');
    expect(store.runs.heartbeat(run.id, { step: 50, epoch: 1 })).toBe(true);
    expect(store.runs.get(run.id)).toMatchObject({ step: 50, epoch: 1 });
    openAgain(store).runs.updateStatus(run.id, 'cancelled');
    expect(store.runs.heartbeat(run.id, { step: 60 })).toBe(false);
    expect(store.runs.get(run.id)!.step).toBe(50);
  });

  it('markInterruptedRuns marks running runs whose process is gone, and leaves live ones and queued ones', () => {
    const store = openTempStore();
    const host = os.hostname();
    const make = () => store.runs.create({ config: config() }).id;
    const [noOwner, deadOwner, recycledPid, staleOtherHost, liveOther, liveOtherHost, claimedHere, queued, paused] =
      range(0, 9).map(make);
    const now = Date.now();
    forceStatus(store, noOwner, 'running', null);
    forceStatus(store, deadOwner, 'running', `${host}:${deadPid()}`);
    forceStatus(store, recycledPid, 'running', `${host}:${process.pid}`); // our pid, but never claimed by us
    forceStatus(store, staleOtherHost, 'running', 'other-host:123', now - 11 * 60_000);
    forceStatus(store, liveOther, 'running', `${host}:${process.ppid}`, now - 1000);
    forceStatus(store, liveOtherHost, 'running', 'other-host:123', now - 1000);
    store.runs.updateStatus(claimedHere, 'running');
    forceStatus(store, paused, 'paused');

    const marked = store.runs.markInterrupted();
    expect(marked.sort()).toEqual([noOwner, deadOwner, recycledPid, staleOtherHost].sort());
    for (const id of marked) {
      expect(store.runs.get(id)).toMatchObject({
        status: 'interrupted',
        error: expect.stringMatching(/^Interrupted: .*Resume it/),
      });
      expect(store.runs.get(id)!.finishedAt).not.toBeNull();
    }
    expect([liveOther, liveOtherHost, claimedHere, queued, paused].map((id) => store.runs.get(id)!.status)).toEqual([
      'running',
      'running',
      'running',
      'queued',
      'paused',
    ]);
    // A second Store in this process (the CLI next to the app) leaves this process's claimed run alone too.
    expect(openAgain(store).runs.markInterrupted()).toEqual([]);
  });

  it('deleteRun removes every row of the run by cascade and returns its checkpoint paths', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config(), tags: ['t'], experimentName: 'e' });
    const other = store.runs.create({ config: config() });
    const replay = store.runs.create({ config: config(), replayOf: run.id });
    for (const id of [run.id, other.id]) {
      store.metricsWriter.append(seriesPoints(id, 'train/loss', range(0, 300), (s) => s));
      store.images.add({ runId: id, step: 1, epoch: 0, kind: 'samples', png: PNG, width: 1, height: 1 });
      store.notes.set(id, 'note');
    }
    store.checkpoints.add({
      runId: run.id,
      step: 100,
      epoch: 1,
      kind: 'epoch',
      path: '/ck/b.bin',
      size: 10,
      sha256: SHA,
    });
    store.checkpoints.add({
      runId: run.id,
      step: 200,
      epoch: 2,
      kind: 'latest',
      path: '/ck/a.bin',
      size: 10,
      sha256: SHA,
    });
    store.checkpoints.add({
      runId: run.id,
      step: 300,
      epoch: 3,
      kind: 'latest',
      path: '/ck/a.bin',
      size: 10,
      sha256: SHA,
    });

    expect(store.runs.delete(run.id)).toEqual(['/ck/a.bin', '/ck/b.bin']);
    expect(store.runs.get(run.id)).toBeNull();
    const left = (table: string, column = 'run_id') => countRows(store, table, `${column} = ?`, run.id);
    expect([left('metric_series'), left('images'), left('checkpoints'), left('tags'), left('notes')]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect(countRows(store, 'metrics')).toBe(300); // only the other run's
    expect(countRows(store, 'metric_rollups', 'series_id NOT IN (SELECT id FROM metric_series)')).toBe(0);
    expect(store.runs.get(replay.id)!.replayOf).toBeNull();
    expect(store.experiments.get('e')).not.toBeNull();
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    expect(() => store.runs.delete(run.id)).toThrow(NotFoundError);

    store.runs.updateStatus(other.id, 'running');
    expect(() => store.runs.delete(other.id)).toThrow(/running; cancel it/);
  });
});

describe('tags and notes', () => {
  it('tags are added once, listed sorted, removed; notes are set, replaced and cleared', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    expect(store.tags.add(run.id, ['b', 'a', 'b'])).toEqual(['a', 'b']);
    expect(store.tags.remove(run.id, 'b')).toBe(true);
    expect(store.tags.remove(run.id, 'b')).toBe(false);
    expect(store.tags.list(run.id)).toEqual(['a']);
    expect(store.tags.all()).toEqual([{ tag: 'a', runCount: 1 }]);
    expect(() => store.tags.add(run.id, [' '])).toThrow(InvalidInputError);
    expect(() => store.tags.add('ffffffff', ['x'])).toThrow(NotFoundError);

    expect(store.notes.get(run.id)).toBeNull();
    expect(store.notes.set(run.id, 'first')!.text).toBe('first');
    expect(store.notes.set(run.id, 'second')).toMatchObject({ runId: run.id, text: 'second' });
    expect(countRows(store, 'notes')).toBe(1);
    expect(store.notes.set(run.id, '  ')).toBeNull();
    expect(store.notes.get(run.id)).toBeNull();
  });
});

describe('images and checkpoints', () => {
  it('lists images without their bytes, returns one with them, and picks the latest per kind at or before a step', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    const add = (step: number, kind: ImageKind) =>
      store.images.add({ runId: run.id, step, epoch: step / 100, kind, png: PNG, width: 8, height: 8 });
    const ids = [
      add(100, 'samples'),
      add(200, 'samples'),
      add(300, 'samples'),
      add(150, 'reconstructions'),
      add(250, 'traversal'),
    ].map((i) => i.id);

    const listed = store.images.list(run.id);
    expect(listed).toHaveLength(5);
    expect(listed.every((image) => !('png' in image) && image.bytes === PNG.length)).toBe(true);
    expect(store.images.list(run.id, 'samples').map((i) => i.step)).toEqual([100, 200, 300]);
    const image = store.images.get(ids[1])!;
    expect([image.step, image.kind, image.width, Buffer.from(image.png).equals(Buffer.from(PNG))]).toEqual([
      200,
      'samples',
      8,
      true,
    ]);
    expect(store.images.get(9999)).toBeNull();
    expect(store.images.latest(run.id).map((i) => `${i.kind}@${i.step}`)).toEqual([
      'reconstructions@150',
      'samples@300',
      'traversal@250',
    ]);
    expect(store.images.atOrBefore(run.id, 220).map((i) => `${i.kind}@${i.step}`)).toEqual([
      'reconstructions@150',
      'samples@200',
    ]);
    const rawPixels = new Uint8Array(64);
    expect(() =>
      store.images.add({ runId: run.id, step: 1, epoch: 0, kind: 'samples', png: rawPixels, width: 8, height: 8 }),
    ).toThrow(/not a PNG/);
  });

  it('checkpoint rows: add, list, latest (optionally by kind), delete for retention', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    const add = (step: number, kind: 'latest' | 'best' | 'epoch') =>
      store.checkpoints.add({
        runId: run.id,
        step,
        epoch: step / 100,
        kind,
        path: `/ck/${kind}-${step}.bin`,
        size: step,
        sha256: SHA,
      });
    const [e1, , best] = [add(100, 'epoch'), add(200, 'epoch'), add(150, 'best'), add(250, 'latest')];
    expect(store.checkpoints.list(run.id).map((c) => c.step)).toEqual([100, 150, 200, 250]);
    expect(store.checkpoints.list(run.id, 'epoch').map((c) => c.step)).toEqual([100, 200]);
    expect(store.checkpoints.latest(run.id)!.path).toBe('/ck/latest-250.bin');
    expect(store.checkpoints.latest(run.id, 'best')!.id).toBe(best.id);
    expect(store.checkpoints.delete(e1.id)).toBe('/ck/epoch-100.bin');
    expect(store.checkpoints.delete(e1.id)).toBeNull();
    expect(() => add(1, 'final' as 'epoch')).toThrow(InvalidInputError);
  });
});

describe('recordEnd: a run end as one compare-and-set', () => {
  const ME = `${os.hostname()}:${process.pid}`;
  const state = (store: Store, runId: string) => {
    const { status, owner, step, epoch, error, finishedAt } = store.runs.require(runId);
    return { status, owner, step, epoch, error, finished: finishedAt !== null };
  };

  it('moves a running run its owner holds to the reported status, with its position and error', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    store.runs.updateStatus(run.id, 'running');
    expect(store.runs.recordEnd(run.id, { owner: ME, status: 'failed', error: 'boom', step: 7, epoch: 1 })).toBe(
      'ended',
    );
    expect(state(store, run.id)).toEqual({
      status: 'failed',
      owner: ME,
      step: 7,
      epoch: 1,
      error: 'boom',
      finished: true,
    });
  });

  it('leaves a run alone that another owner holds, or that is queued, finished or gone', () => {
    const store = openTempStore();
    const theirs = store.runs.create({ config: config() });
    forceStatus(store, theirs.id, 'running', 'elsewhere:1');
    const queued = store.runs.create({ config: config() });
    const done = store.runs.create({ config: config() });
    forceStatus(store, done.id, 'cancelled', ME);
    for (const runId of [theirs.id, queued.id, done.id, 'deadbeef'])
      expect(store.runs.recordEnd(runId, { owner: ME, status: 'completed', step: 9, completeIfPaused: true })).toBe(
        'skipped',
      );
    expect(state(store, theirs.id)).toMatchObject({ status: 'running', owner: 'elsewhere:1', step: 0 });
    expect(state(store, queued.id)).toMatchObject({ status: 'queued', step: 0 });
    expect(state(store, done.id)).toMatchObject({ status: 'cancelled', step: 0 });
  });

  it('completes a paused run straight from paused only when asked, keeping its owner', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    forceStatus(store, run.id, 'paused', 'queue redis://q');
    expect(store.runs.recordEnd(run.id, { owner: 'queue redis://q', status: 'completed', step: 16, epoch: 2 })).toBe(
      'skipped',
    );
    expect(state(store, run.id)).toMatchObject({ status: 'paused', step: 0 });
    const end = { owner: 'queue redis://q', status: 'completed' as const, step: 16, epoch: 2, completeIfPaused: true };
    expect(store.runs.recordEnd(run.id, end)).toBe('ended');
    expect(state(store, run.id)).toEqual({
      status: 'completed',
      owner: 'queue redis://q',
      step: 16,
      epoch: 2,
      error: null,
      finished: true,
    });
  });

  it('records where a stopped run got to when its trainer stopped too, without changing its status', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    forceStatus(store, run.id, 'cancelled', 'queue redis://q');
    const end = { owner: 'queue redis://q', status: 'paused' as const, step: 5, epoch: 0, keepPosition: true };
    expect(store.runs.recordEnd(run.id, end)).toBe('positioned');
    expect(state(store, run.id)).toMatchObject({ status: 'cancelled', step: 5, epoch: 0 });
    expect(store.runs.recordEnd(run.id, { ...end, step: 6, keepPosition: false })).toBe('skipped');
    expect(state(store, run.id)).toMatchObject({ step: 5 });
    expect(() => store.runs.recordEnd(run.id, { owner: ME, status: 'running' })).toThrow(InvalidInputError);
  });
});
