// The training loop of one run: batches -> loss terms -> Adam step, evaluation on the test split,
// image grids and checkpoints. It runs inside a worker thread (worker.ts) and reports through
// `emit`; it never touches the database.
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import type { RunConfig } from '../api/config';
import { APP_VERSION } from '../api/version';
import type { MetricPoint } from '../api/contract';
import { loadDataset, binarizeBatch, createRandom } from '../data';
import type { Dataset } from '../data/types';
import { createModel, getNamedWeights, setNamedWeights } from '../models';
import { activeUnits } from '../models/activeUnits';
import { capacityAt, klWeightAt } from '../models/schedules';
import type { LossOptions, VaeModel } from '../models/types';
import { createAdam } from './accelerate';
import { initBackend, type BackendInfo, type BackendPreference } from './backend';
import { decodeCheckpoint, encodeCheckpoint, type NamedArray } from './checkpoint';
import { CONTROL, type FinishStatus, type TrainerEvent, type TrainJob } from './events';
import { encodeGrid } from './imageGrid';
import { trainStep } from './step';
import { mutualInformationGap } from './mig';
import { emitLatents, latentActivityPoints, latentsEvent } from './latentViews';
import { deriveSeed, PRIOR_GRID_SEED, SEED_PURPOSE } from './seeds';

export type Emit = (event: TrainerEvent, transfer?: ArrayBuffer[]) => void;

const EVAL_BATCH = 250;
const TRAVERSAL_RANGE = 3;
// Every latent dimension gets a traversal row, up to this many (a 512-d latent would make a useless grid).
const MAX_TRAVERSAL_DIMS = 64;

interface Run {
  job: TrainJob;
  config: RunConfig;
  data: Dataset;
  model: VaeModel;
  optimizer: tf.AdamOptimizer;
  variables: tf.Variable[];
  inputDim: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** The test split binarized once (fixed across evaluations) when the run binarizes. */
  testPixels: Float32Array;
}

/** Trains one run to completion, pause, cancellation or divergence. Never throws: failures become a 'failed' finish. */
export async function train(job: TrainJob, control: Int32Array, emit: Emit): Promise<FinishStatus> {
  let step = 0;
  let epoch = 0;
  let run: Run | null = null;
  try {
    const backend = await chooseBackend(job);
    run = await prepare(job);
    const resumed = job.resumeFrom ? await restore(run, job.resumeFrom.path) : 0;
    step = resumed;
    epoch = Math.floor(step / run.stepsPerEpoch);
    emit({
      type: 'started',
      backend: describeBackend(backend),
      backendNotes: backend.skipped,
      datasetHash: run.data.hash,
      datasetSource: run.data.source,
      totalSteps: run.totalSteps,
      stepsPerEpoch: run.stepsPerEpoch,
      startStep: step,
    });
    const status = await loop(run, control, emit, step, (s, e) => {
      step = s;
      epoch = e;
    });
    emit({ type: 'finished', status, step, epoch, error: status === 'diverged' ? divergedMessage(step, epoch) : null });
    return status;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    emit({ type: 'finished', status: 'failed', step, epoch, error: message });
    return 'failed';
  } finally {
    run?.model.dispose();
    run?.optimizer.dispose();
  }
}

/**
 * The backend chain for every architecture: conv models train on wasm too (initBackend registers the
 * Conv2DBackpropFilter kernel that tfjs-backend-wasm 4.22 lacks; see accelerate/conv.ts).
 */
async function chooseBackend(job: TrainJob): Promise<BackendInfo> {
  return initBackend((job.backend ?? job.config.train.backend) as BackendPreference);
}

/**
 * The backend as recorded with the run, e.g. 'wasm+native-sgemm'. The accelerator is part of it
 * because it changes the last bits of every product: a replay compares against this string.
 */
export function describeBackend(info: BackendInfo): string {
  return info.accelerator === 'none' ? info.name : `${info.name}+${info.accelerator}`;
}

function divergedMessage(step: number, epoch: number): string {
  return `Loss became NaN or infinite at step ${step} (epoch ${epoch + 1}); lower the learning rate or check the data.`;
}

async function prepare(job: TrainJob): Promise<Run> {
  const { config } = job;
  const data = await loadDataset({ ...config.data, seed: config.train.seed });
  const inputShape: [number, number, number] = [data.height, data.width, data.channels];
  const model = createModel(config.model, inputShape, deriveSeed(config.train.seed, SEED_PURPOSE.init));
  // tf.train.adam(lr), with a fused native update on wasm + native sgemm (same slots and state, so
  // checkpoints of either restore into either; see accelerate/adam.ts).
  const optimizer = createAdam(config.train.lr);
  const stepsPerEpoch = Math.ceil(data.train.count / config.train.batchSize);
  const inputDim = data.height * data.width * data.channels;
  const testPixels =
    config.data.binarization === 'dynamic'
      ? binarizeBatch(data.test.pixels, createRandom(deriveSeed(config.train.seed, SEED_PURPOSE.evalBinarize)))
      : data.test.pixels;
  return {
    job,
    config,
    data,
    model,
    optimizer,
    variables: model.trainableVariables(),
    inputDim,
    stepsPerEpoch,
    totalSteps: stepsPerEpoch * config.train.epochs,
    testPixels,
  };
}

/** Loads weights and Adam state from a checkpoint; returns the step it was taken at. */
async function restore(run: Run, path: string): Promise<number> {
  const content = decodeCheckpoint(new Uint8Array(await readFile(path)), path);
  setNamedWeights(run.model, content.model);
  if (content.optimizer.length > 0) {
    await run.optimizer.setWeights(
      content.optimizer.map((slot) => ({ name: slot.name, tensor: tf.tensor(slot.values, slot.shape) })),
    );
    const { accBeta1, accBeta2 } = adamPowers(run.optimizer);
    if (content.metadata.adamAccBeta1) accBeta1.assign(tf.scalar(Number(content.metadata.adamAccBeta1)));
    if (content.metadata.adamAccBeta2) accBeta2.assign(tf.scalar(Number(content.metadata.adamAccBeta2)));
  }
  const step = Number(content.metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${path}: checkpoint has no valid step in its metadata`);
  return step;
}

async function snapshot(run: Run, step: number, epoch: number): Promise<Uint8Array> {
  const optimizerWeights = await run.optimizer.getWeights();
  const optimizer: NamedArray[] = [];
  for (const { name, tensor } of optimizerWeights) {
    // The iteration count comes as int32: store every slot as float32 (the format's one dtype here).
    optimizer.push({ name, shape: tensor.shape, values: Float32Array.from(await tensor.data()) });
  }
  const { accBeta1, accBeta2 } = adamPowers(run.optimizer);
  return encodeCheckpoint({
    model: getNamedWeights(run.model),
    optimizer,
    metadata: {
      format: 'vae-workbench-checkpoint/1',
      runId: run.job.runId,
      step: String(step),
      epoch: String(epoch),
      appVersion: APP_VERSION,
      config: JSON.stringify(run.config),
      datasetHash: run.data.hash,
      // Adam's running beta powers: setWeights recomputes them as pow(beta, t + 1), which differs
      // from the running product in the last bit; restoring them exactly keeps a resume bit-identical.
      adamAccBeta1: String(accBeta1.dataSync()[0]),
      adamAccBeta2: String(accBeta2.dataSync()[0]),
    },
  });
}

/** tfjs keeps Adam's beta1^t and beta2^t in private variables; checkpoints need them exactly. */
function adamPowers(optimizer: tf.AdamOptimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } {
  return optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
}

function emitCheckpoint(
  emit: Emit,
  bytes: Uint8Array,
  step: number,
  epoch: number,
  kind: 'epoch' | 'pause' | 'final',
): void {
  emit({ type: 'checkpoint', step, epoch, kind, bytes }, [bytes.buffer as ArrayBuffer]);
}

/** Rows `indices` of a split's pixels, as one [n, D] float array. */
function gatherRows(pixels: Float32Array, indices: ArrayLike<number>, dim: number): Float32Array {
  const out = new Float32Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) out.set(pixels.subarray(indices[i] * dim, (indices[i] + 1) * dim), i * dim);
  return out;
}

/** Seeded Fisher-Yates permutation of 0..n-1 for one epoch. */
function permutation(n: number, seed: number): Int32Array {
  const random = createRandom(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

async function loop(
  run: Run,
  control: Int32Array,
  emit: Emit,
  startStep: number,
  progress: (step: number, epoch: number) => void,
): Promise<FinishStatus> {
  const { config, data, model, optimizer, variables, inputDim, stepsPerEpoch, totalSteps } = run;
  const { train: t } = config;
  const layers = model.latentDims.length;
  let step = startStep;
  while (step < totalSteps) {
    const epoch = Math.floor(step / stepsPerEpoch);
    const order = permutation(data.train.count, deriveSeed(t.seed, SEED_PURPOSE.shuffle, epoch));
    for (let b = step - epoch * stepsPerEpoch; b < stepsPerEpoch; b++) {
      const signal = Atomics.load(control, 0);
      if (signal === CONTROL.cancel) return 'cancelled';
      if (signal === CONTROL.pause) {
        emitCheckpoint(emit, await snapshot(run, step, epoch), step, epoch, 'pause');
        return 'paused';
      }
      const started = performance.now();
      const indices = order.subarray(b * t.batchSize, Math.min((b + 1) * t.batchSize, data.train.count));
      let pixels = gatherRows(data.train.pixels, indices, inputDim);
      if (config.data.binarization === 'dynamic') {
        pixels = binarizeBatch(pixels, createRandom(deriveSeed(t.seed, SEED_PURPOSE.binarize, step)));
      }
      step += 1;
      const klWeight = config.model.beta * klWeightAt(step, t, totalSteps);
      const capacity = config.model.capacity
        ? { gamma: config.model.capacity.gamma, c: capacityAt(step, config.model.capacity) }
        : null;
      const options: LossOptions = {
        klWeight,
        freeBits: t.freeBits,
        capacity,
        objective: t.objective,
        samples: t.objectiveSamples,
        seed: deriveSeed(t.seed, SEED_PURPOSE.noise, step),
      };
      const values = trainStep(model, optimizer, variables, pixels, indices.length, options);
      const seconds = (performance.now() - started) / 1000;
      const samplesPerSec = indices.length / Math.max(seconds, 1e-9);
      if (!values.every(Number.isFinite)) {
        progress(step, epoch); // the run records the step whose loss was not finite
        return 'diverged';
      }
      const wallTime = Date.now();
      const point = (name: string, value: number): MetricPoint => ({ name, step, epoch, value, wallTime });
      const [loss, elbo, recon, kl, gradNorm, ...rest] = values;
      const points: MetricPoint[] = [
        point('train/loss', loss),
        point('train/elbo', elbo),
        point('train/recon', recon),
        point('train/kl', kl),
        point('train/kl_weight', klWeight),
        point('train/grad_norm', gradNorm),
        point('train/lr', t.lr),
        point('train/samples_per_sec', samplesPerSec),
      ];
      if (capacity) points.push(point('train/capacity', capacity.c));
      for (let l = 0; l < layers; l++) points.push(point(`train/kl_layer/${l}`, rest[l]));
      rest.slice(layers).forEach((v, d) => points.push(point(`train/kl_dim/${String(d).padStart(2, '0')}`, v)));
      emit({ type: 'metrics', points });
      emit({ type: 'progress', step, epoch, samplesPerSec });
      progress(step, epoch);
    }
    const finishedEpoch = epoch;
    if ((finishedEpoch + 1) % config.eval.everyEpochs === 0 || step >= totalSteps) {
      const evaluated = await evaluate(run, control, emit, step, finishedEpoch);
      if (evaluated === 'cancelled') return 'cancelled';
      emitCheckpoint(
        emit,
        await snapshot(run, step, finishedEpoch),
        step,
        finishedEpoch,
        step >= totalSteps ? 'final' : 'epoch',
      );
    }
  }
  return 'completed';
}

async function evaluate(
  run: Run,
  control: Int32Array,
  emit: Emit,
  step: number,
  epoch: number,
): Promise<'ok' | 'cancelled'> {
  const { config, data, model, inputDim } = run;
  const test = run.testPixels;
  const n = data.test.count;
  const layers = model.latentDims.length;
  const totalDims = model.latentDims.reduce((a, b) => a + b, 0);
  const sums = new Float64Array(3 + layers + totalDims);
  const wallTime = Date.now();
  const point = (name: string, value: number): MetricPoint => ({ name: `test/${name}`, step, epoch, value, wallTime });
  const means: Float32Array[] = model.latentDims.map((d) => new Float32Array(n * d));
  for (let start = 0; start < n; start += EVAL_BATCH) {
    if (Atomics.load(control, 0) === CONTROL.cancel) return 'cancelled';
    const count = Math.min(EVAL_BATCH, n - start);
    const values = tf.tidy(() => {
      const x = tf.tensor2d(test.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
      const terms = model.lossTerms(x, {
        klWeight: 1,
        freeBits: 0,
        capacity: null,
        objective: 'elbo',
        samples: 1,
        seed: deriveSeed(config.train.seed, SEED_PURPOSE.evalNoise, start),
      });
      const layerMeans = model.encodeMeans(x);
      layerMeans.forEach((m, l) => means[l].set(m.dataSync(), start * model.latentDims[l]));
      return tf.concat([tf.stack([terms.elbo, terms.recon, terms.kl, ...terms.klPerLayer]), terms.klPerDim]).dataSync();
    });
    for (let i = 0; i < values.length; i++) sums[i] += values[i] * count;
  }
  const avg = Array.from(sums, (s) => s / n);
  const points: MetricPoint[] = [point('elbo', avg[0]), point('recon', avg[1]), point('kl', avg[2])];
  for (let l = 0; l < layers; l++) points.push(point(`kl_layer/${l}`, avg[3 + l]));
  avg.slice(3 + layers).forEach((v, d) => points.push(point(`kl_dim/${String(d).padStart(2, '0')}`, v)));

  // Active units (Burda et al. 2015): dims whose posterior mean varies over x, Cov_x(E_q[z_i]) > 0.01.
  let active = 0;
  means.forEach((m, l) => {
    const units = activeUnits(m, n, model.latentDims[l]);
    active += units;
    if (layers > 1) points.push(point(`active_units/${l}`, units));
  });
  points.push(point('active_units', active));
  points.push(...latentActivityPoints(means, n, model.latentDims, point)); // per-dimension A_u for the KL view
  emitLatents(emit, latentsEvent(means, n, model.latentDims, data.test.labels, step, epoch)); // the latent scatter

  // IWAE_k estimate of log p(x) on the first iwaeExamples test examples.
  const iwaeN = Math.min(config.eval.iwaeExamples, n);
  const k = config.eval.iwaeK;
  const chunk = Math.max(1, Math.min(k, Math.floor(2_000_000 / (inputDim * 50))));
  let iwaeSum = 0;
  for (let start = 0; start < iwaeN; start += 50) {
    if (Atomics.load(control, 0) === CONTROL.cancel) return 'cancelled';
    const count = Math.min(50, iwaeN - start);
    const bound = tf.tidy(() => {
      const x = tf.tensor2d(test.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
      return model
        .iwaeBound(x, k, { chunk, seed: deriveSeed(config.train.seed, SEED_PURPOSE.iwae, start) })
        .sum()
        .dataSync()[0];
    });
    iwaeSum += bound;
  }
  points.push(point('iwae', iwaeSum / iwaeN));
  points.push(point('iwae_k', k));

  if (data.test.factors && data.factorSizes) {
    const top = means.length - 1;
    const { mig } = mutualInformationGap(means[top], n, model.latentDims[top], data.test.factors, data.factorSizes);
    points.push(point('mig', mig));
  }
  emit({ type: 'metrics', points });
  emitImages(run, emit, step, epoch);
  return 'ok';
}

function emitImages(run: Run, emit: Emit, step: number, epoch: number): void {
  const { config, data, model, inputDim } = run;
  const g = config.eval.gridSize;
  const [h, w] = [data.height, data.width];
  const send = (
    kind: 'samples' | 'reconstructions' | 'traversal',
    pixels: Float32Array,
    count: number,
    columns: number,
  ) => {
    const grid = encodeGrid(pixels, count, h, w, columns);
    emit({ type: 'image', kind, step, epoch, ...grid }, [grid.png.buffer as ArrayBuffer]);
  };
  // Prior samples: one fixed noise batch, the same every epoch and in every run.
  const samples = tf.tidy(() => {
    const z = tf.randomNormal([g * g, model.priorDim], 0, 1, 'float32', PRIOR_GRID_SEED);
    return model.generate(z as tf.Tensor2D, PRIOR_GRID_SEED).dataSync() as Float32Array;
  });
  send('samples', samples, g * g, g);

  // Reconstructions: rows of fixed test images, each followed by a row of their reconstructions.
  const pairs = Math.floor(g / 2) * g;
  const originals = run.testPixels.subarray(0, pairs * inputDim);
  const recon = tf.tidy(() => model.reconstruct(tf.tensor2d(originals, [pairs, inputDim])).dataSync() as Float32Array);
  const interleaved = new Float32Array(2 * pairs * inputDim);
  for (let r = 0; r < pairs / g; r++) {
    interleaved.set(originals.subarray(r * g * inputDim, (r + 1) * g * inputDim), 2 * r * g * inputDim);
    interleaved.set(recon.subarray(r * g * inputDim, (r + 1) * g * inputDim), (2 * r + 1) * g * inputDim);
  }
  send('reconstructions', interleaved, 2 * pairs, g);

  // Latent traversal: each of the first dims of the bottom layer swept over [-3, 3], others at the posterior mean of one test image.
  const dim = model.latentDims[0];
  const rows = Math.min(dim, MAX_TRAVERSAL_DIMS);
  const traversal = tf.tidy(() => {
    const base = model.encodeMean(tf.tensor2d(run.testPixels.subarray(0, inputDim), [1, inputDim])).dataSync();
    const z = new Float32Array(rows * g * dim);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < g; c++) {
        const row = z.subarray((r * g + c) * dim, (r * g + c + 1) * dim);
        row.set(base);
        row[r] = -TRAVERSAL_RANGE + (2 * TRAVERSAL_RANGE * c) / (g - 1);
      }
    }
    return model.decode(tf.tensor2d(z, [rows * g, dim])).dataSync() as Float32Array;
  });
  send('traversal', traversal, rows * g, g);
}
