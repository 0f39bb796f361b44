// The store's side of runs trained over a queue: hand-over under the queue's name, attempts that
// replace what an earlier attempt logged after their start exactly once, and cursors that only
// move forward.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidTransitionError } from '../../../src-main/store/errors';
import { cleanup, config, openAgain, openTempStore } from './helpers';

afterEach(cleanup);

const QUEUE = 'redis://:***@10.0.0.5:6379/0?queue=q';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]);
const points = (runId: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    runId,
    name: 'train/loss',
    step: from + i,
    epoch: 0,
    value: from + i,
    wallTime: 1,
  }));

describe('remote runs', () => {
  it('claim moves a queued run to running under the queue, never with a password in its name', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    expect(() =>
      store.remote.claim(run.id, { queue: 'redis://:hunter2@host/0', jobId: 'j', owner: 'queue x' }),
    ).toThrow(InvalidInputError);
    const remote = store.remote.claim(run.id, { queue: QUEUE, jobId: `${run.id}-r0`, owner: `queue ${QUEUE}` });
    expect(remote).toMatchObject({ runId: run.id, queue: QUEUE, attempt: 0, seq: 0 });
    expect(store.runs.get(run.id)).toMatchObject({ status: 'running', owner: `queue ${QUEUE}` });
    expect(store.remote.inFlight(QUEUE).map((r) => r.runId)).toEqual([run.id]);
    expect(() => store.remote.claim(run.id, { queue: QUEUE, jobId: 'again', owner: 'queue' })).toThrow(
      InvalidTransitionError,
    );
    // Start-up of another process on the data folder leaves it alone: its owner is the queue, with a fresh heartbeat.
    expect(openAgain(store).runs.markInterrupted()).toEqual([]);
  });

  it("a new attempt drops what the last one logged after its start, once; an older attempt's start is ignored", () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    store.remote.claim(run.id, { queue: QUEUE, jobId: 'j', owner: 'queue' });
    const attempt = (n: number, startStep: number | null) =>
      store.remote.beginAttempt(run.id, {
        attempt: n,
        seq: n * 1e9 + 1,
        worker: `h:${n}`,
        host: 'h',
        backend: 'wasm',
        startStep,
      });
    expect(attempt(1, 0)).toBe(true);
    store.metricsWriter.append(points(run.id, 1, 20));
    for (const step of [8, 16])
      store.images.add({ runId: run.id, step, epoch: 0, kind: 'samples', png: PNG, width: 1, height: 1 });
    expect(attempt(2, 8)).toBe(true);
    expect(store.metrics.readSeriesRaw(run.id, 'train/loss').map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(store.images.list(run.id).map((i) => i.step)).toEqual([8]);
    store.metricsWriter.append(points(run.id, 9, 12));
    expect(attempt(2, 8)).toBe(false); // the same attempt again (a replayed event) drops nothing
    expect(attempt(1, 0)).toBe(false);
    expect(store.metrics.summary(run.id, 'train/loss')?.count).toBe(12);
    expect(store.remote.ingested(run.id)).toEqual({
      series: { 'train/loss': 12 },
      images: { samples: 8 },
      checkpoints: [],
    });
    expect(store.remote.attempts(run.id).map((a) => [a.attempt, a.worker, a.startStep])).toEqual([
      [1, 'h:1', 0],
      [2, 'h:2', 8],
    ]);
  });

  it('the stream position and run cursors are stored together, the cursors only forward', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    store.remote.claim(run.id, { queue: QUEUE, jobId: 'j', owner: 'queue' });
    store.remote.beginAttempt(run.id, {
      attempt: 1,
      seq: 1e9 + 1,
      worker: 'h:1',
      host: 'h',
      backend: '',
      startStep: null,
    });
    expect(store.remote.streamPosition(QUEUE)).toBe('0');
    store.remote.saveProgress(QUEUE, '17-3', [{ runId: run.id, attempt: 1, seq: 1e9 + 40 }]);
    store.remote.saveProgress(QUEUE, '17-4', [{ runId: run.id, attempt: 1, seq: 1e9 + 5 }]);
    expect(store.remote.streamPosition(QUEUE)).toBe('17-4');
    expect(store.remote.get(run.id)).toMatchObject({ attempt: 1, seq: 1e9 + 40 });
  });
});
