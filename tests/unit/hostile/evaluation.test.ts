// Pause and cancel take effect inside an evaluation, not only between training batches: a pause
// that arrives as the last batch ends used to be ignored (the evaluation ran to its end and the
// run completed). Now the evaluation stops at its next block, the pause checkpoint records the
// evaluation as pending, and a resume runs it first with the very same result.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '../../../src-main/api/config';
import { decodeCheckpoint } from '../../../src-main/training/checkpoint';
import { CONTROL, type TrainerEvent, type TrainJob } from '../../../src-main/training/events';
import { train } from '../../../src-main/training/trainer';

const config = parseRunConfig({
  model: { hidden: [32], latentDim: 3 },
  data: { dataset: 'mnist', trainSize: 128, testSize: 64, binarization: 'dynamic' },
  train: { epochs: 1, batchSize: 64, lr: 3e-3, seed: 3, backend: 'wasm' },
  eval: { iwaeK: 16, iwaeExamples: 64, gridSize: 4 },
});

async function record(job: TrainJob, onEvent?: (event: TrainerEvent, control: Int32Array) => void) {
  const control = new Int32Array(new SharedArrayBuffer(4));
  const events: TrainerEvent[] = [];
  const status = await train(job, control, (event) => {
    events.push(event);
    onEvent?.(event, control);
  });
  const metric = (name: string) =>
    events.flatMap((e) => (e.type === 'metrics' ? e.points.filter((p) => p.name === name) : [])).map((p) => p.value);
  return { status, events, metric };
}

describe('evaluation honours the control word', () => {
  it('a pause during the last evaluation stops it, and the resume evaluates with the same result', async () => {
    const reference = await record({ runId: 'ref', config, resumeFrom: null });
    expect(reference.status).toBe('completed');
    const [iwae] = reference.metric('test/iwae');
    expect(Number.isFinite(iwae)).toBe(true);

    // The pause arrives with the last batch's progress: the next thing the trainer does is evaluate.
    const paused = await record({ runId: 'p', config, resumeFrom: null }, (event, control) => {
      if (event.type === 'progress' && event.step === 2) Atomics.store(control, 0, CONTROL.pause);
    });
    expect(paused.status).toBe('paused');
    expect(paused.metric('test/iwae')).toEqual([]);
    const checkpoint = paused.events.find((e) => e.type === 'checkpoint');
    expect(checkpoint?.type === 'checkpoint' && checkpoint.kind).toBe('pause');
    const bytes = (checkpoint as Extract<TrainerEvent, { type: 'checkpoint' }>).bytes;
    expect(decodeCheckpoint(bytes).metadata.pendingEvaluationEpoch).toBe('0');

    const folder = mkdtempSync(join(tmpdir(), 'vaewb-evalpause-'));
    const file = join(folder, 'pause.safetensors');
    writeFileSync(file, bytes);
    const resumed = await record({ runId: 'p', config, resumeFrom: { path: file, step: 2 } });
    expect(resumed.status).toBe('completed');
    expect(resumed.metric('test/iwae')).toEqual([iwae]);
    expect(resumed.metric('test/elbo')).toEqual(reference.metric('test/elbo'));
    expect(resumed.metric('train/loss')).toEqual([]);
    rmSync(folder, { recursive: true, force: true });
  }, 120_000);

  it('a cancel during the evaluation ends the run as cancelled with no test metrics', async () => {
    const cancelled = await record({ runId: 'c', config, resumeFrom: null }, (event, control) => {
      if (event.type === 'progress' && event.step === 2) Atomics.store(control, 0, CONTROL.cancel);
    });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.metric('test/elbo')).toEqual([]);
  }, 60_000);
});
