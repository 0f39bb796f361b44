// VQ-VAE (van den Oord et al. 2017): the encoder emits codePositions vectors of codeDim values,
// each replaced by its nearest of codebookSize codes; the decoder sees the codes, and gradients
// reach the encoder by the straight-through estimator.
//   loss = recon + ||sg(z_e) - e||^2 (codebookUpdate 'loss' only) + commitment ||z_e - sg(e)||^2,
// the squared norms summed over positions and code dimensions, averaged over the batch (as recon,
// which is summed over pixels). With codebookUpdate 'ema' the codebook follows moving averages
// of its assigned encoder outputs (codebook.ts) after each optimizer step instead.
// The posterior is one-hot, so with a uniform prior over the K codes the bound is
//   log p(x) >= log p(x | z_q) - P log K        (P = codePositions),
// reported as test/elbo (kl = P log K, a constant) and exact for every IWAE k. Generation draws
// codes from a prior fitted to the training codes: the first-order autoregressive prior over
// positions of codePrior.ts, counted on the whole training set at each evaluation; before the
// first evaluation (or for a checkpoint from before it existed), an independent categorical per
// position, the moving average (decay 0.99) of the codes assigned to the training batches.
import * as tf from '@tensorflow/tfjs';
import type { VqVaeConfig } from '../configs';
import { createLikelihood, type Likelihood } from '../likelihood';
import { buildMlp, run } from '../networks';
import { deriveSeed, uniform } from '../noise';
import { ParameterNet } from '../parameterNet';
import type { LossOptions, LossTerms, VaeModel } from '../types';
import { emaUpdate, nearestCodes, stopGradient, straightThrough } from './codebook';
import { AR_SUCCESSORS, fitCodePrior, isFitted, sampleFromPrior, type CodePriorTables } from './codePrior';

export {
  codeShares,
  codeSwapCodes,
  codesByUse,
  codeUsage,
  emaUpdate,
  EMA_EPSILON,
  nearestCodes,
  straightThrough,
  stopGradient,
} from './codebook';
export {
  AR_SUCCESSORS,
  CODE_PRIOR_UNIFORM_WEIGHT,
  codeLogProb,
  conditionalProbabilities,
  firstPositionProbabilities,
  fitCodePrior,
  isFitted,
  sampleFromPrior,
  type CodePriorTables,
} from './codePrior';

/** Decay of the per-position code prior's moving average. */
export const CODE_PRIOR_DECAY = 0.99;

export class VqVae implements VaeModel {
  readonly discrete = true;
  readonly latentDims: number[];
  readonly positions: number;
  readonly codeDim: number;
  readonly codebookSize: number;
  readonly optionalNetworks = ['codePriorAr'] as const;
  private readonly codebook: ParameterNet;
  private readonly state: ParameterNet;
  /** The autoregressive code prior's tables (codePrior.ts), all zero until fitPrior. */
  private readonly arPrior: ParameterNet;

  constructor(
    readonly config: VqVaeConfig,
    readonly inputShape: [number, number, number],
    private readonly encoder: tf.LayersModel,
    private readonly decoder: tf.LayersModel,
    private readonly likelihood: Likelihood,
    seed: number,
  ) {
    this.positions = config.codePositions;
    this.codeDim = config.codeDim;
    this.codebookSize = config.codebookSize;
    this.latentDims = [this.positions * this.codeDim];
    const [k, d, p] = [this.codebookSize, this.codeDim, this.positions];
    const ema = config.codebookUpdate === 'ema';
    // e_k ~ U(-1/K, 1/K), as the PyTorch VQ-VAE ports initialize nn.Embedding.
    this.codebook = ParameterNet.build(
      'codebook',
      [{ name: 'embedding', shape: [k, d], init: { uniform: 1 / k }, trainable: !ema }],
      deriveSeed(seed, 0xc0de),
    );
    // EMA statistics start as if each code had been assigned once to itself (N_k = 1, m_k = e_k),
    // so unused codes stay where they are; the code prior starts uniform; no code is yet unused.
    this.state = ParameterNet.build(
      'vqState',
      [
        { name: 'emaCount', shape: [k], init: { constant: 1 }, trainable: false },
        { name: 'emaSum', shape: [k, d], init: { constant: 0 }, trainable: false },
        { name: 'unusedSteps', shape: [k], init: { constant: 0 }, trainable: false },
        { name: 'codePrior', shape: [p, k], init: { constant: 1 / k }, trainable: false },
      ],
      0,
    );
    this.state.write(
      'emaSum',
      tf.tidy(() => this.codebook.read().embedding),
    );
    const transitions = [Math.max(1, p - 1), k, AR_SUCCESSORS];
    this.arPrior = ParameterNet.build(
      'codePriorAr',
      [
        { name: 'marginal', shape: [p, k], init: { constant: 0 }, trainable: false },
        { name: 'nextCode', shape: transitions, init: { constant: -1 }, trainable: false },
        { name: 'nextCount', shape: transitions, init: { constant: 0 }, trainable: false },
      ],
      0,
    );
  }

  /** The autoregressive prior's tables as stored. */
  codePriorTables(): CodePriorTables {
    const values = this.arPrior.values();
    const cells = (this.positions - 1) * this.codebookSize * AR_SUCCESSORS;
    return {
      positions: this.positions,
      codebookSize: this.codebookSize,
      successors: AR_SUCCESSORS,
      marginal: Float64Array.from(values.marginal),
      nextCode: Float64Array.from(values.nextCode.subarray(0, cells)),
      nextCount: Float64Array.from(values.nextCount.subarray(0, cells)),
    };
  }

  /**
   * Fits the autoregressive code prior to n training examples (pixels [n * inputDim]), encoded in
   * batches of `batch`, each first passed through `prepare` (the caller's binarization).
   */
  fitPrior(
    pixels: Float32Array,
    n: number,
    inputDim: number,
    prepare: (batch: Float32Array, start: number) => Float32Array = (batch) => batch,
    batch = 500,
  ): void {
    const codes = new Int32Array(n * this.positions);
    for (let start = 0; start < n; start += batch) {
      const count = Math.min(batch, n - start);
      const rows = prepare(pixels.subarray(start * inputDim, (start + count) * inputDim), start);
      const x = tf.tensor2d(rows, [count, inputDim]);
      codes.set(this.codesOf(x), start * this.positions);
      x.dispose();
    }
    this.writePrior(fitCodePrior(codes, n, this.positions, this.codebookSize));
  }

  /** Stores fitted tables (fitPrior, or tests with hand-made codes). */
  writePrior(tables: CodePriorTables): void {
    const [p, k] = [this.positions, this.codebookSize];
    const size = Math.max(1, p - 1) * k * AR_SUCCESSORS;
    const padded = (values: Float64Array, fill: number) => {
      const out = new Float32Array(size).fill(fill);
      out.set(values);
      return tf.tensor1d(out);
    };
    if (tables.successors !== AR_SUCCESSORS || tables.positions !== p || tables.codebookSize !== k)
      throw new Error(`code prior: tables for ${tables.positions} x ${tables.codebookSize} do not fit this model`);
    this.arPrior.write('marginal', tf.tensor1d(Float32Array.from(tables.marginal)));
    this.arPrior.write('nextCode', padded(tables.nextCode, -1));
    this.arPrior.write('nextCount', padded(tables.nextCount, 0));
  }

  get priorDim(): number {
    return this.positions;
  }

  private embedding(): tf.Tensor2D {
    return this.codebook.read().embedding as tf.Tensor2D;
  }

  /** z_e for a batch, one row per (example, position): [batch * P, D]. */
  encodeRows(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.reshape(run(this.encoder, x), [-1, this.codeDim]) as tf.Tensor2D);
  }

  /** Nearest codes of z_e rows: indices, the codes e_q (value) and the straight-through output. */
  quantize(ze: tf.Tensor2D): { indices: tf.Tensor1D; eq: tf.Tensor2D; st: tf.Tensor2D } {
    const e = this.embedding();
    const indices = nearestCodes(ze, e);
    // e_q = onehot(k) e: differentiable in e (tfjs's gather gradient fails on argMin's indices)
    const eq = tf.matMul(tf.oneHot(indices, this.codebookSize), e) as tf.Tensor2D;
    return { indices, eq, st: straightThrough(ze, eq) as tf.Tensor2D };
  }

  trainableVariables(): tf.Variable[] {
    return Object.values(this.networks()).flatMap((net) => net.trainableWeights.map((w) => w.read() as tf.Variable));
  }

  lossTerms(x: tf.Tensor2D, options: LossOptions): LossTerms {
    if (options.objective !== 'elbo') throw new Error("a VQ-VAE trains on train.objective 'elbo'");
    return tf.tidy(() => {
      const batch = x.shape[0];
      const ze = this.encodeRows(x);
      const { eq, st } = this.quantize(ze);
      const logLik = this.likelihood.logProb(x, run(this.decoder, tf.reshape(st, [batch, -1])));
      const recon = tf.neg(tf.mean(logLik)) as tf.Scalar;
      const commitment = tf.div(tf.sum(tf.square(tf.sub(ze, stopGradient(eq)))), batch) as tf.Scalar;
      let loss = tf.add(recon, tf.mul(this.config.commitment, commitment)) as tf.Scalar;
      if (this.config.codebookUpdate === 'loss') {
        loss = tf.add(loss, tf.div(tf.sum(tf.square(tf.sub(stopGradient(ze), eq))), batch)) as tf.Scalar;
      }
      const perPosition = Math.log(this.codebookSize); // KL(one-hot || uniform over K) per position
      const kl = tf.scalar(this.positions * perPosition);
      return {
        loss,
        elbo: tf.neg(tf.add(recon, kl)) as tf.Scalar,
        recon,
        kl,
        klPerLayer: [tf.clone(kl)],
        klPerDim: tf.fill([this.positions], perPosition) as tf.Tensor1D,
      };
    });
  }

  /** Per batch: the summed commitment term ||z_e - e_q||^2 (over examples) and the code of every (example, position). */
  codeStats(x: tf.Tensor2D): { commitmentSum: number; indices: Int32Array } {
    return tf.tidy(() => {
      const ze = this.encodeRows(x);
      const indices = nearestCodes(ze, this.embedding());
      const eq = tf.gather(this.embedding(), indices);
      return {
        commitmentSum: tf.sum(tf.square(tf.sub(ze, eq))).dataSync()[0],
        indices: Int32Array.from(indices.dataSync()),
      };
    });
  }

  /**
   * After an optimizer step on batch x: the code prior's moving average, the EMA codebook update
   * (codebookUpdate 'ema') and, with deadCodeSteps > 0, the restart of codes unused for that many
   * steps at encoder outputs of the batch chosen with `seed`. Uses the encoder after the step.
   */
  afterStep(x: tf.Tensor2D, seed: number): void {
    const [k, d, p] = [this.codebookSize, this.codeDim, this.positions];
    const ze = tf.tidy(() => this.encodeRows(x));
    const zeValues = ze.dataSync();
    const indices = tf.tidy(() => nearestCodes(ze, this.embedding())).dataSync() as Int32Array;
    const rows = indices.length;
    ze.dispose();
    const values = this.state.values();
    // Code prior: per position, p_k <- decay p_k + (1 - decay) (fraction of the batch at code k).
    const prior = Float64Array.from(values.codePrior, (v) => CODE_PRIOR_DECAY * v);
    const perPosition = (1 - CODE_PRIOR_DECAY) / (rows / p);
    indices.forEach((c, i) => (prior[(i % p) * k + c] += perPosition));
    this.state.write('codePrior', tf.tensor2d(Float32Array.from(prior), [p, k]));
    let codebook: Float64Array | null = null;
    const ema = { count: Float64Array.from(values.emaCount), sum: Float64Array.from(values.emaSum) };
    if (this.config.codebookUpdate === 'ema') codebook = emaUpdate(ema, zeValues, indices, d, this.config.emaDecay);
    // Dead codes: steps since each code was last assigned; restart those unused for deadCodeSteps.
    const unused = Float64Array.from(values.unusedSteps, (v) => v + 1);
    indices.forEach((c) => (unused[c] = 0));
    if (this.config.deadCodeSteps > 0) {
      const dead = [...unused.keys()].filter((c) => unused[c] >= this.config.deadCodeSteps);
      if (dead.length > 0) {
        codebook ??= Float64Array.from(this.codebook.values().embedding);
        const picks = uniform([dead.length], deriveSeed(seed, 0xdead)).dataSync();
        dead.forEach((c, j) => {
          const row = Math.min(rows - 1, Math.floor(picks[j] * rows));
          for (let t = 0; t < d; t++) codebook![c * d + t] = zeValues[row * d + t];
          unused[c] = 0;
          ema.count[c] = 1; // the restarted code starts as if assigned once to its new value
          for (let t = 0; t < d; t++) ema.sum[c * d + t] = zeValues[row * d + t];
        });
      }
    }
    this.state.write('unusedSteps', tf.tensor1d(Float32Array.from(unused)));
    // The EMA statistics change only with the codebook (an EMA update or a restart); else they stay.
    if (codebook) {
      this.state.write('emaCount', tf.tensor1d(Float32Array.from(ema.count)));
      this.state.write('emaSum', tf.tensor1d(Float32Array.from(ema.sum)));
      this.codebook.write('embedding', tf.tensor1d(Float32Array.from(codebook)));
    }
  }

  /** The quantized latent z_q [batch, P * D] (the "posterior mean" of a one-hot posterior). */
  encodeMeans(x: tf.Tensor2D): tf.Tensor2D[] {
    return tf.tidy(() => [tf.reshape(this.quantize(this.encodeRows(x)).eq, [x.shape[0], -1]) as tf.Tensor2D]);
  }

  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.encodeMeans(x)[0]);
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.likelihood.mean(run(this.decoder, z)));
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.encodeMean(x)));
  }

  /**
   * Codes drawn from the fitted prior, one per position: the standard-normal draws zTop [n, P] are
   * mapped to uniforms u = Phi(z), and each to the code where its distribution's CDF passes u: the
   * autoregressive prior's (each position given the code drawn before it) once fitted, else the
   * position's independent moving-average categorical.
   */
  sampleCodes(zTop: tf.Tensor2D): Int32Array {
    const [n, p] = zTop.shape;
    if (p !== this.positions) throw new Error(`VQ-VAE prior draws need ${this.positions} columns, got ${p}`);
    const u = tf.tidy(() => tf.mul(0.5, tf.add(1, tf.erf(tf.div(zTop, Math.SQRT2)))).dataSync());
    const tables = this.codePriorTables();
    if (isFitted(tables)) return sampleFromPrior(tables, u, n);
    const k = this.codebookSize;
    const prior = this.state.values().codePrior;
    const codes = new Int32Array(n * p);
    for (let pos = 0; pos < p; pos++) {
      let total = 0;
      for (let c = 0; c < k; c++) total += prior[pos * k + c];
      for (let r = 0; r < n; r++) {
        const target = u[r * p + pos] * total;
        let acc = 0;
        let c = 0;
        for (; c < k - 1; c++) {
          acc += prior[pos * k + c];
          if (acc > target) break;
        }
        codes[r * p + pos] = c;
      }
    }
    return codes;
  }

  private decodeCodes(zTop: tf.Tensor2D): tf.Tensor2D {
    return this.decodeLogits(this.sampleCodes(zTop), zTop.shape[0]);
  }

  /** The decoder's output for n code vectors given as indices [n * P]. */
  private decodeLogits(codes: Int32Array, n: number): tf.Tensor2D {
    return tf.tidy(
      () =>
        run(this.decoder, tf.reshape(tf.gather(this.embedding(), tf.tensor1d(codes, 'int32')), [n, -1])) as tf.Tensor2D,
    );
  }

  /** The likelihood's mean for n code vectors given as indices [n * P] (code-swap grids). */
  decodeIndices(codes: Int32Array, n: number): tf.Tensor2D {
    if (codes.length !== n * this.positions)
      throw new Error(`VQ-VAE codes: ${codes.length} indices are not ${n} x ${this.positions} positions`);
    return tf.tidy(() => this.likelihood.mean(this.decodeLogits(codes, n)));
  }

  /** The nearest code at each position for each row of x: indices [n * P]. */
  codesOf(x: tf.Tensor2D): Int32Array {
    return tf.tidy(() => Int32Array.from(nearestCodes(this.encodeRows(x), this.embedding()).dataSync()));
  }

  generate(zTop: tf.Tensor2D, _seed: number): tf.Tensor2D {
    return tf.tidy(() => this.likelihood.mean(this.decodeCodes(zTop)));
  }

  drawSamples(zTop: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => this.likelihood.sample(this.decodeCodes(zTop), seed));
  }

  /** The bound with the uniform prior, log p(x | z_q) - P log K, for any k (the posterior is one-hot). */
  iwaeBound(x: tf.Tensor2D, _k: number, _options: { chunk: number; seed: number }): tf.Tensor1D {
    return tf.tidy(() => {
      const zq = this.encodeMean(x);
      const logLik = this.likelihood.logProb(x, run(this.decoder, zq));
      return tf.sub(logLik, this.positions * Math.log(this.codebookSize)) as tf.Tensor1D;
    });
  }

  networks(): Record<string, tf.LayersModel> {
    return {
      encoder: this.encoder,
      codebook: this.codebook.network,
      vqState: this.state.network,
      codePriorAr: this.arPrior.network,
      decoder: this.decoder,
      ...this.likelihood.networks(),
    };
  }

  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
    this.codebook.network.dispose();
    this.codebook.dispose();
    this.state.network.dispose();
    this.state.dispose();
    this.arPrior.network.dispose();
    this.arPrior.dispose();
    this.likelihood.dispose();
  }
}

/** A VQ-VAE with MLP networks (config.hidden, config.activation) and the config's likelihood. */
export function buildVqVae(config: VqVaeConfig, inputShape: [number, number, number], seed: number): VqVae {
  const dim = inputShape[0] * inputShape[1] * inputShape[2];
  const latent = config.codePositions * config.codeDim;
  const encoder = buildMlp({
    name: 'encoder',
    inputDim: dim,
    hidden: config.hidden,
    activation: config.activation,
    outputDim: latent,
    seed,
  });
  const decoder = buildMlp({
    name: 'decoder',
    inputDim: latent,
    hidden: [...config.hidden].reverse(),
    activation: config.activation,
    outputDim: dim,
    seed,
  });
  return new VqVae(config, inputShape, encoder, decoder, createLikelihood(config, dim), seed);
}
