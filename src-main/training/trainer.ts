// The training loop of one run: batches -> loss terms -> Adam step, evaluation on the test split,
// image grids and checkpoints. It runs inside a worker thread (worker.ts) and reports through
// `emit`; it never touches the database.
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { iwaeSubsetSize, type RunConfig } from '../api/config';
import { APP_VERSION } from '../api/version';
import type { MetricPoint } from '../api/contract';
import { binarizeBatch, createRandom, dequantizeBatch, LOG_256, shapesForMig } from '../data';
import type { Dataset, Split } from '../data/types';
import { createModel, getNamedWeightsAsync, setNamedWeights, VqVae } from '../models';
import { codesByUse, codeSwapCodes } from '../models/vqvae';
import { activeUnits } from '../models/activeUnits';
import { capacityAt, klWeightAt } from '../models/schedules';
import type { LossOptions, VaeModel } from '../models/types';
import { capacityOf, klBetaOf, posteriorOf } from '../api/modelReads';
import { createAdam } from './accelerate';
import { initBackend, type BackendInfo, type BackendPreference } from './backend';
import { calibrate } from './calibrate';
import { decodeCheckpoint, encodeCheckpoint, type NamedArray } from './checkpoint';
import { CONTROL, type FinishStatus, type TrainerEvent, type TrainJob } from './events';
import { encodeGrid } from './imageGrid';
import { trainStepAsync } from './step';
import { mutualInformationGap } from './mig';
import { evalTestSet, loadRunDataset, splitSeedOf } from './runData';
import { emitLatents, latentActivityPoints, latentsEvent } from './latentViews';
import { deriveSeed, PRIOR_GRID_SEED, SEED_PURPOSE } from './seeds';
import { describeAdapter } from './webgpu';
import { variantEvalMetrics } from './variantMetrics';

export type Emit = (event: TrainerEvent, transfer?: ArrayBuffer[]) => void;

const EVAL_BATCH = 250;
const IWAE_BATCH = 50;
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
  /** The test set as evaluated: binarized once from the split seed, or dequantized once (fixed across evaluations). */
  testPixels: Float32Array;
  /** sha256 of the test set's indices and evaluated pixels (same for runs that differ only in train.seed). */
  testSetHash: string;
  /**
   * What turns the model's density values into the reported discrete bounds: D log 256 for a
   * dequantized run (log P(x) >= E[log p(y)] - D log 256), else 0.
   */
  discreteOffset: number;
  /** Whether test/elbo and test/iwae bound a discrete log-likelihood (binarized or dequantized): then bits/dim is reported. */
  discrete: boolean;
  /** The MIG points (shapes only), drawn at the first evaluation and kept. */
  migShapes?: Split;
  /** Restored from a checkpoint taken by a pause during an evaluation: that evaluation runs first. */
  pendingEvaluation: number | null;
}

/** How an evaluation ended: a cancel or pause is seen between its blocks, not only between batches. */
type EvaluationOutcome = 'ok' | 'cancelled' | 'paused';

/** Trains one run to completion, pause, cancellation or divergence. Never throws: failures become a 'failed' finish. */
export async function train(job: TrainJob, control: Int32Array, emit: Emit): Promise<FinishStatus> {
  let step = 0;
  let epoch = 0;
  let run: Run | null = null;
  try {
    let backend = await chooseBackend(job);
    const data = await loadRunData(job);
    if (backend.calibrate) {
      // 'auto' found a hardware GPU: time this run's step there and on the CPU chain, then build the
      // run's model on the faster one (calibrate.ts).
      backend = await calibrate(backend, job.config, [data.height, data.width, data.channels]);
    }
    run = prepare(job, data);
    const resumed = job.resumeFrom ? await restore(run, job.resumeFrom.path) : 0;
    step = resumed;
    epoch = Math.floor(step / run.stepsPerEpoch);
    emit({
      type: 'started',
      backend: describeBackend(backend),
      backendNotes: [
        ...backend.skipped,
        ...(backend.blasThreads
          ? [`BLAS: ${backend.blasThreads} thread(s) at the start; ${backend.acceleratorDetail ?? ''}`]
          : []),
      ],
      datasetHash: run.data.hash,
      datasetSource: run.data.source,
      testSetHash: run.testSetHash,
      testSplit: run.data.testSplit,
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
  const preference = (job.backend ?? job.config.train.backend) as BackendPreference;
  const { model } = job.config;
  // As the config refuses them on webgpu (api/config.ts), 'auto' leaves webgpu out for these.
  if (preference === 'auto' && (model.kind === 'vq-vae' || posteriorOf(model) !== 'gaussian')) {
    const info = await initBackend('auto', { skipWebgpu: true });
    return {
      ...info,
      skipped: [`webgpu skipped: ${model.kind} / ${posteriorOf(model)} trains on the CPU chain`, ...info.skipped],
    };
  }
  return initBackend(preference);
}

/**
 * The backend as recorded with the run, e.g. 'wasm+native-sgemm(SkylakeX)'. The accelerator and
 * the BLAS kernel family are part of it because they change the last bits of every product: a
 * replay compares against this string.
 */
export function describeBackend(info: BackendInfo): string {
  // The adapter is part of a webgpu run's backend: a replay on another GPU warns like any other change.
  if (info.name === 'webgpu') return `webgpu(${info.adapter ? describeAdapter(info.adapter) : 'unknown adapter'})`;
  if (info.accelerator === 'none') return info.name;
  return `${info.name}+${info.accelerator}${info.blasCore ? `(${info.blasCore})` : ''}`;
}

function divergedMessage(step: number, epoch: number): string {
  return `Loss became NaN or infinite at step ${step} (epoch ${epoch + 1}); lower the learning rate or check the data.`;
}

/** The run's data set, checked against what its config asks of it. */
async function loadRunData(job: TrainJob): Promise<Dataset> {
  const { config } = job;
  const data = await loadRunDataset(config, job.datasetsDir);
  if (config.data.dequantize && !data.eightBit) {
    throw new Error(
      `data.dequantize: data set '${config.data.dataset}' is not 8-bit grey levels (float pixels); set data.dequantize to false for a plain Gaussian density`,
    );
  }
  return data;
}

/** The run's model and optimizer on the backend now active, over its loaded data. */
function prepare(job: TrainJob, data: Dataset): Run {
  const { config } = job;
  const inputShape: [number, number, number] = [data.height, data.width, data.channels];
  const model = createModel(config.model, inputShape, deriveSeed(config.train.seed, SEED_PURPOSE.init));
  // tf.train.adam(lr), with a fused native update on wasm + native sgemm (same slots and state, so
  // checkpoints of either restore into either; see accelerate/adam.ts).
  const optimizer = createAdam(config.train.lr);
  const stepsPerEpoch = Math.ceil(data.train.count / config.train.batchSize);
  const inputDim = data.height * data.width * data.channels;
  const testSet = evalTestSet(config, data);
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
    testPixels: testSet.pixels,
    testSetHash: testSet.hash,
    discreteOffset: config.data.dequantize ? inputDim * LOG_256 : 0,
    discrete:
      config.data.dequantize || (config.model.likelihood === 'bernoulli' && config.data.binarization !== 'none'),
    pendingEvaluation: null,
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
  const pending = content.metadata.pendingEvaluationEpoch;
  run.pendingEvaluation = pending !== undefined && /^\d+$/.test(pending) ? Number(pending) : null;
  return step;
}

async function snapshot(
  run: Run,
  step: number,
  epoch: number,
  pendingEvaluationEpoch: number | null = null,
): Promise<Uint8Array> {
  const optimizerWeights = await run.optimizer.getWeights();
  const optimizer: NamedArray[] = [];
  for (const { name, tensor } of optimizerWeights) {
    // The iteration count comes as int32: store every slot as float32 (the format's one dtype here).
    optimizer.push({ name, shape: tensor.shape, values: Float32Array.from(await tensor.data()) });
  }
  const { accBeta1, accBeta2 } = adamPowers(run.optimizer);
  return encodeCheckpoint({
    model: await getNamedWeightsAsync(run.model),
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
      adamAccBeta1: String((await accBeta1.data())[0]),
      adamAccBeta2: String((await accBeta2.data())[0]),
      // Paused in the middle of this epoch's evaluation: a resume runs it before training on.
      ...(pendingEvaluationEpoch === null ? {} : { pendingEvaluationEpoch: String(pendingEvaluationEpoch) }),
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

/**
 * The values of the tensors `build` returns (built inside tf.tidy), read asynchronously: the webgpu
 * backend has no synchronous read in Node (tfjs reads synchronously through an OffscreenCanvas).
 */
async function readAll(build: () => tf.Tensor[]): Promise<Float32Array[]> {
  const tensors = tf.tidy(build);
  try {
    return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  } finally {
    for (const t of tensors) t.dispose();
  }
}

async function read(build: () => tf.Tensor): Promise<Float32Array> {
  return (await readAll(() => [build()]))[0];
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
  /** Evaluates after `finishedEpoch` and writes its checkpoint; a pause inside keeps the evaluation pending. */
  const evaluateAndCheckpoint = async (finishedEpoch: number): Promise<FinishStatus | null> => {
    const evaluated = await evaluate(run, control, emit, step, finishedEpoch);
    if (evaluated === 'cancelled') return 'cancelled';
    if (evaluated === 'paused') {
      emitCheckpoint(emit, await snapshot(run, step, finishedEpoch, finishedEpoch), step, finishedEpoch, 'pause');
      return 'paused';
    }
    emitCheckpoint(
      emit,
      await snapshot(run, step, finishedEpoch),
      step,
      finishedEpoch,
      step >= totalSteps ? 'final' : 'epoch',
    );
    return null;
  };
  if (run.pendingEvaluation !== null) {
    const pending = run.pendingEvaluation;
    run.pendingEvaluation = null;
    const stopped = await evaluateAndCheckpoint(pending);
    if (stopped) return stopped;
  }
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
      } else if (config.data.dequantize) {
        pixels = dequantizeBatch(pixels, createRandom(deriveSeed(t.seed, SEED_PURPOSE.dequantize, step)));
      }
      // Schedules take the 0-based index of this update (frange_cycle_linear's L[step]); metrics the count after it.
      // beta-TCVAE applies its own alpha, beta, gamma to the decomposed KL: the schedule alone here.
      const klWeight = klBetaOf(config.model) * klWeightAt(step, t, totalSteps);
      const modelCapacity = capacityOf(config.model);
      const capacity = modelCapacity ? { gamma: modelCapacity.gamma, c: capacityAt(step, modelCapacity) } : null;
      step += 1;
      const options: LossOptions = {
        klWeight,
        freeBits: t.freeBits,
        freeBitsPer: t.freeBitsPer, // migrations/0007 gave runs recorded before the field 'layer', as they trained
        capacity,
        objective: t.objective,
        samples: t.objectiveSamples,
        seed: deriveSeed(t.seed, SEED_PURPOSE.noise, step),
        datasetSize: data.train.count,
      };
      const values = await trainStepAsync(model, optimizer, variables, pixels, indices.length, options);
      if (model.afterStep) {
        // A VQ-VAE's EMA codebook, code prior and dead-code restarts follow the optimizer step.
        const batch = tf.tensor2d(pixels, [indices.length, inputDim]);
        model.afterStep(batch, deriveSeed(t.seed, SEED_PURPOSE.noise, step, 0x7a));
        batch.dispose();
      }
      const seconds = (performance.now() - started) / 1000;
      const samplesPerSec = indices.length / Math.max(seconds, 1e-9);
      if (!values.every(Number.isFinite)) {
        progress(step, epoch); // the run records the step whose loss was not finite
        return 'diverged';
      }
      const wallTime = Date.now();
      const point = (name: string, value: number): MetricPoint => ({ name, step, epoch, value, wallTime });
      const [loss, elbo, recon, kl, gradNorm, ...rest] = values;
      const offset = run.discreteOffset; // dequantized: report the discrete bound (a constant shift, no gradient)
      const points: MetricPoint[] = [
        point('train/loss', loss + offset),
        point('train/elbo', elbo - offset),
        point('train/recon', recon + offset),
        point('train/kl', kl),
        point('train/kl_weight', klWeight),
        point('train/grad_norm', gradNorm),
        point('train/lr', t.lr),
        point('train/samples_per_sec', samplesPerSec),
      ];
      if (capacity) points.push(point('train/capacity', capacity.c));
      for (let l = 0; l < layers; l++) points.push(point(`train/kl_layer/${l}`, rest[l]));
      if (!model.discrete)
        rest.slice(layers).forEach((v, d) => points.push(point(`train/kl_dim/${String(d).padStart(2, '0')}`, v)));
      emit({ type: 'metrics', points });
      emit({ type: 'progress', step, epoch, samplesPerSec });
      progress(step, epoch);
    }
    const finishedEpoch = epoch;
    if ((finishedEpoch + 1) % config.eval.everyEpochs === 0 || step >= totalSteps) {
      const stopped = await evaluateAndCheckpoint(finishedEpoch);
      if (stopped) return stopped;
    }
  }
  return 'completed';
}

/**
 * One evaluation on the test set. test/elbo, test/recon, test/kl: all testSize examples.
 * test/iwae: IWAE_k on the first m examples (m = iwaeSubsetSize), test/elbo_iwae_subset: the ELBO
 * on the same m examples, test/gap = test/iwae - test/elbo_iwae_subset, an estimate of the gap
 * E[KL(q(z|x) || p(z|x))] that IWAE_k closes (a lower bound on it, for k large). A dequantized run
 * reports the discrete bounds (density values - D log 256); bits/dim = -bound / (D ln 2).
 */
async function evaluate(
  run: Run,
  control: Int32Array,
  emit: Emit,
  step: number,
  epoch: number,
): Promise<EvaluationOutcome> {
  const { config, data, model, inputDim } = run;
  // The control word is shared memory: read between every block of work, an evaluation of many
  // examples (IWAE with a large k, MIG) stops within one block of a cancel or pause.
  const stop = (): EvaluationOutcome | null => {
    const signal = Atomics.load(control, 0);
    return signal === CONTROL.cancel ? 'cancelled' : signal === CONTROL.pause ? 'paused' : null;
  };
  const test = run.testPixels;
  const n = data.test.count;
  const subset = iwaeSubsetSize(config, n);
  const layers = model.latentDims.length;
  const totalDims = model.latentDims.reduce((a, b) => a + b, 0);
  const sums = new Float64Array(3 + layers + totalDims);
  let subsetElboSum = 0;
  const wallTime = Date.now();
  const point = (name: string, value: number): MetricPoint => ({ name: `test/${name}`, step, epoch, value, wallTime });
  const means: Float32Array[] = model.latentDims.map((d) => new Float32Array(n * d));
  // Batches end at `subset`, so the ELBO of the IWAE subset is a sum of whole batches.
  for (let start = 0; start < n;) {
    const stopped = stop();
    if (stopped) return stopped;
    const count = Math.min(EVAL_BATCH, (start < subset ? subset : n) - start);
    const [values, ...layerMeans] = await readAll(() => {
      const x = tf.tensor2d(test.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
      const terms = model.lossTerms(x, {
        klWeight: 1,
        freeBits: 0,
        capacity: null,
        objective: 'elbo',
        samples: 1,
        seed: deriveSeed(config.train.seed, SEED_PURPOSE.evalNoise, start),
      });
      const stats = tf.concat([tf.stack([terms.elbo, terms.recon, terms.kl, ...terms.klPerLayer]), terms.klPerDim]);
      return [stats, ...model.encodeMeans(x)];
    });
    layerMeans.forEach((m, l) => means[l].set(m, start * model.latentDims[l]));
    for (let i = 0; i < values.length; i++) sums[i] += values[i] * count;
    if (start < subset) subsetElboSum += values[0] * count;
    start += count;
  }
  const avg = Array.from(sums, (s) => s / n);
  const offset = run.discreteOffset;
  const bitsPerDim = (bound: number) => -bound / (inputDim * Math.LN2);
  const elbo = avg[0] - offset;
  const points: MetricPoint[] = [point('elbo', elbo), point('recon', avg[1] + offset), point('kl', avg[2])];
  for (let l = 0; l < layers; l++) points.push(point(`kl_layer/${l}`, avg[3 + l]));
  // A discrete (VQ-VAE) model has no Gaussian posterior: no KL per dimension or active units; its
  // IWAE_k is exactly its bound for every k (one-hot posterior), so test/gap is 0.
  if (!model.discrete)
    avg.slice(3 + layers).forEach((v, d) => points.push(point(`kl_dim/${String(d).padStart(2, '0')}`, v)));

  // Active units (Burda et al. 2015): dims whose posterior mean varies over x, Cov_x(E_q[z_i]) > 0.01.
  let active = 0;
  means.forEach((m, l) => {
    const units = activeUnits(m, n, model.latentDims[l]);
    active += units;
    if (layers > 1) points.push(point(`active_units/${l}`, units));
  });
  if (!model.discrete) points.push(point('active_units', active));
  points.push(...latentActivityPoints(means, n, model.latentDims, point)); // per-dimension A_u for the KL view
  emitLatents(emit, latentsEvent(means, n, model.latentDims, data.test.labels, step, epoch)); // the latent scatter

  // IWAE_k estimate of log p(x) on the first `subset` test examples, and the ELBO on the same ones.
  const k = config.eval.iwaeK;
  const chunk = Math.max(1, Math.min(k, Math.floor(2_000_000 / (inputDim * IWAE_BATCH))));
  let iwaeSum = 0;
  for (let start = 0; start < subset; start += IWAE_BATCH) {
    const stopped = stop();
    if (stopped) return stopped;
    const count = Math.min(IWAE_BATCH, subset - start);
    const [bound] = await read(() => {
      const x = tf.tensor2d(test.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
      return model.iwaeBound(x, k, { chunk, seed: deriveSeed(config.train.seed, SEED_PURPOSE.iwae, start) }).sum();
    });
    iwaeSum += bound;
  }
  const iwae = iwaeSum / subset - offset;
  const subsetElbo = subsetElboSum / subset - offset;
  points.push(point('iwae', iwae));
  points.push(point('iwae_k', k));
  points.push(point('iwae_examples', subset));
  points.push(point('elbo_iwae_subset', subsetElbo));
  points.push(point('gap', iwae - subsetElbo));
  if (run.discrete) {
    points.push(point('bpd', bitsPerDim(elbo)));
    points.push(point('iwae_bpd', bitsPerDim(iwae)));
  }

  // The variants' own metrics (KL decomposition, flow log-determinants): variantMetrics.ts.
  const variantSeed = deriveSeed(config.train.seed, SEED_PURPOSE.evalNoise, 0x7c);
  // A VQ-VAE's code prior is fitted first, so this evaluation's samples and bound use it.
  if (model instanceof VqVae) fitVqPrior(run, model);
  const variants = await variantEvalMetrics(model, test, n, inputDim, variantSeed);
  for (const m of variants.points) points.push(point(m.name, m.value));
  const codePriorKl = variants.points.find((m) => m.name === 'code_prior_kl');
  // The bound with the fitted prior: log p(x|z_q) - KL(one-hot || prior) = elbo + P log K - that KL.
  if (model instanceof VqVae && codePriorKl)
    points.push(point('elbo_code_prior', elbo + model.positions * Math.log(model.codebookSize) - codePriorKl.value));

  const beforeMig = stop();
  if (beforeMig) return beforeMig;
  if (data.factorSizes) {
    const mig = await migOnFreshShapes(run, control);
    // null: a cancel or pause arrived between its batches
    if (mig === null) return stop() ?? 'cancelled';
    points.push(point('mig', mig.value));
    points.push(point('mig_points', mig.points));
  }
  emit({ type: 'metrics', points });
  await emitImages(run, emit, step, epoch, variants.codeCounts);
  return 'ok';
}

/**
 * Fits a VQ-VAE's autoregressive code prior (models/vqvae/codePrior.ts) to the codes of the whole
 * training set under the current weights, the images as the model trains on them: dynamically
 * binarized runs count one fixed binarization (seeded per batch, the same at every evaluation).
 */
function fitVqPrior(run: Run, model: VqVae): void {
  const { config, data, inputDim } = run;
  const dynamic = config.data.binarization === 'dynamic';
  model.fitPrior(data.train.pixels, data.train.count, inputDim, (batch, start) =>
    dynamic ? binarizeBatch(batch, createRandom(deriveSeed(config.train.seed, SEED_PURPOSE.codePrior, start))) : batch,
  );
}

/**
 * MIG (Chen et al. 2018) on eval.migPoints fresh shapes drawn from the generator with the split
 * seed (disentanglement_lib uses 10,000 points), from the top layer's posterior means.
 */
async function migOnFreshShapes(run: Run, control: Int32Array): Promise<{ value: number; points: number } | null> {
  const { config, data, model, inputDim } = run;
  const count = config.eval.migPoints ?? 10_000;
  const shapes = (run.migShapes ??= shapesForMig(count, splitSeedOf(config), data.height));
  const top = model.latentDims.length - 1;
  const d = model.latentDims[top];
  const codes = new Float32Array(count * d);
  for (let start = 0; start < count; start += EVAL_BATCH) {
    if (Atomics.load(control, 0) !== CONTROL.run) return null;
    const size = Math.min(EVAL_BATCH, count - start);
    const topMeans = await read(() => {
      const x = tf.tensor2d(shapes.pixels.subarray(start * inputDim, (start + size) * inputDim), [size, inputDim]);
      return model.encodeMeans(x)[top];
    });
    codes.set(topMeans, start * d);
  }
  const { mig } = mutualInformationGap(codes, count, d, shapes.factors!, data.factorSizes!);
  return { value: mig, points: count };
}

async function emitImages(
  run: Run,
  emit: Emit,
  step: number,
  epoch: number,
  codeCounts: Float64Array | null,
): Promise<void> {
  const { config, data, model, inputDim } = run;
  const g = config.eval.gridSize;
  const [h, w] = [data.height, data.width];
  const send = (
    kind: 'samples' | 'reconstructions' | 'traversal' | 'samples-drawn' | 'code-swap',
    pixels: Float32Array,
    count: number,
    columns: number,
  ) => {
    const grid = encodeGrid(pixels, count, h, w, columns);
    emit({ type: 'image', kind, step, epoch, ...grid }, [grid.png.buffer as ArrayBuffer]);
  };
  // Prior samples: one fixed noise batch, the same every epoch and in every run.
  const samples = await read(() => {
    const z = tf.randomNormal([g * g, model.priorDim], 0, 1, 'float32', PRIOR_GRID_SEED);
    return model.generate(z as tf.Tensor2D, PRIOR_GRID_SEED);
  });
  send('samples', samples, g * g, g);
  // The same prior draws with x drawn from p(x|z) instead of its mean (the other way to sample).
  const drawn = await read(() => {
    const z = tf.randomNormal([g * g, model.priorDim], 0, 1, 'float32', PRIOR_GRID_SEED);
    return model.drawSamples(z as tf.Tensor2D, PRIOR_GRID_SEED);
  });
  send('samples-drawn', drawn, g * g, g);

  // Reconstructions: rows of fixed test images, each followed by a row of their reconstructions.
  const pairs = Math.floor(g / 2) * g;
  const originals = run.testPixels.subarray(0, pairs * inputDim);
  const recon = await read(() => model.reconstruct(tf.tensor2d(originals, [pairs, inputDim])));
  const interleaved = new Float32Array(2 * pairs * inputDim);
  for (let r = 0; r < pairs / g; r++) {
    interleaved.set(originals.subarray(r * g * inputDim, (r + 1) * g * inputDim), 2 * r * g * inputDim);
    interleaved.set(recon.subarray(r * g * inputDim, (r + 1) * g * inputDim), (2 * r + 1) * g * inputDim);
  }
  send('reconstructions', interleaved, 2 * pairs, g);
  if (model instanceof VqVae && codeCounts) {
    // No latent axes to traverse in a VQ-VAE's codes: the first test image decoded from its own
    // codes (column 0) and, row r, with position r's code swapped for the most used other codes.
    const rows = Math.min(model.positions, MAX_TRAVERSAL_DIMS);
    const first = tf.tensor2d(run.testPixels.subarray(0, inputDim), [1, inputDim]);
    const own = model.codesOf(first);
    first.dispose();
    const codes = codeSwapCodes(own, rows, g, codesByUse(codeCounts));
    send('code-swap', await read(() => model.decodeIndices(codes, rows * g)), rows * g, g);
  }
  if (model.discrete) return;

  // Latent traversal: each of the first dims of the bottom layer swept over [-3, 3], others at the posterior mean of one test image.
  const dim = model.latentDims[0];
  const rows = Math.min(dim, MAX_TRAVERSAL_DIMS);
  const base = await read(() => model.encodeMean(tf.tensor2d(run.testPixels.subarray(0, inputDim), [1, inputDim])));
  const traversal = await read(() => {
    const z = new Float32Array(rows * g * dim);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < g; c++) {
        const row = z.subarray((r * g + c) * dim, (r * g + c + 1) * dim);
        row.set(base);
        row[r] = -TRAVERSAL_RANGE + (2 * TRAVERSAL_RANGE * c) / (g - 1);
      }
    }
    return model.decode(tf.tensor2d(z, [rows * g, dim]));
  });
  send('traversal', traversal, rows * g, g);
}
