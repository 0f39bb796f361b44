// Evaluation metrics of the model variants, computed on the test set beside the trainer's own
// (trainer.ts hooks this in with one call): the KL decomposition test/mi, test/tc, test/dwkl of
// every single-layer model with a diagonal Gaussian posterior (Chen et al. 2018; klDecomposition.ts),
// the mean log-determinant of each flow step, test/flow_logdet/<k>, for a flow posterior, and a
// VQ-VAE's codebook metrics: test/commitment (mean ||z_e - e_q||^2 per example), test/perplexity
// exp(H(p_bar)) of code use over all positions, test/codes_used (fraction of the K codes used on
// the test set) and test/uniform_prior_kl = P log K, the KL of the one-hot posterior to the
// uniform prior that test/elbo (the bound log p(x|z_q) - P log K) includes, and the codebook-usage
// histogram test/code_share/NN: the share of the test set's assignments taken by the codes at use
// ranks [NN w, (NN + 1) w), most used first (w = codeShareBinWidth(K), one code per bin up to 64);
// once its autoregressive code prior is fitted, test/code_prior_kl = -E log p(z_q) under that
// prior mixed with 1% uniform (codePrior.ts), the KL of the one-hot posterior to it.
import * as tf from '@tensorflow/tfjs';
import { codeShareBinWidth } from '../api/constants';
import { FlowVae } from '../models/flows';
import { klDecomposition } from '../models/klDecomposition';
import { sampleDiagGaussian } from '../models/distributions';
import type { VaeModel } from '../models/types';
import type { GaussianPosterior } from '../models/vae';
import { codeLogProb, codeShares, codeUsage, isFitted, VqVae } from '../models/vqvae';

/** Minibatch size M of the decomposition's weighted estimate, at most; it holds M^2 d floats. */
export const DECOMPOSITION_BATCH = 500;
/** Float budget of one decomposition minibatch (M^2 d): 40 MB, so a 512-d latent uses M = 139. */
const DECOMPOSITION_FLOATS = 1e7;

/** M for a d-dimensional latent: DECOMPOSITION_BATCH, or less so M^2 d stays within DECOMPOSITION_FLOATS. */
export function decompositionBatch(d: number): number {
  return Math.max(2, Math.min(DECOMPOSITION_BATCH, Math.floor(Math.sqrt(DECOMPOSITION_FLOATS / d))));
}

interface DecomposablePosterior {
  decompositionPosterior(x: tf.Tensor2D): GaussianPosterior | null;
}

function decomposable(model: VaeModel): model is VaeModel & DecomposablePosterior {
  return typeof (model as Partial<DecomposablePosterior>).decompositionPosterior === 'function';
}

/**
 * The variant metrics on n test examples (pixels [n * inputDim]), by name without the 'test/'
 * prefix, and a VQ-VAE's count of each code on them (for the code-swap grid; null for other
 * models). The decomposition uses one posterior sample per example (seeded) and minibatches of
 * decompositionBatch(d) out of N = n; MI + TC + DWKL is the Monte Carlo KL on those samples, an
 * estimate of test/kl.
 */
export async function variantEvalMetrics(
  model: VaeModel,
  pixels: Float32Array,
  n: number,
  inputDim: number,
  seed: number,
): Promise<{ points: { name: string; value: number }[]; codeCounts: Float64Array | null }> {
  const out: { name: string; value: number }[] = [];
  let codeCounts: Float64Array | null = null;
  if (decomposable(model)) {
    const sums = [0, 0, 0];
    let counted = 0;
    const batch = decompositionBatch(model.latentDims[0]);
    for (let start = 0; start < n; start += batch) {
      const count = Math.min(batch, n - start);
      // Read asynchronously: the webgpu backend cannot read synchronously in Node.
      const terms = tf.tidy((): tf.Tensor | undefined => {
        const x = tf.tensor2d(pixels.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
        const q = model.decompositionPosterior(x);
        if (q === null) return undefined;
        const z = sampleDiagGaussian(q.mu, q.logVar, seed, start * q.mu.shape[1]) as tf.Tensor2D;
        const d = klDecomposition(z, q.mu, q.logVar, n);
        return tf.stack([d.mi, d.tc, d.dwkl]);
      });
      if (terms === undefined) break;
      const values = Array.from(await terms.data());
      terms.dispose();
      (values as number[]).forEach((v, i) => (sums[i] += v * count));
      counted += count;
    }
    if (counted === n) {
      out.push(
        { name: 'mi', value: sums[0] / n },
        { name: 'tc', value: sums[1] / n },
        { name: 'dwkl', value: sums[2] / n },
      );
    }
  }
  if (model instanceof FlowVae) {
    const sums = new Array<number>(model.flow.length).fill(0);
    for (let start = 0; start < n; start += DECOMPOSITION_BATCH) {
      const count = Math.min(DECOMPOSITION_BATCH, n - start);
      const x = tf.tensor2d(pixels.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
      model.meanLogDetPerStep(x, seed + start).forEach((v, k) => (sums[k] += v * count));
      x.dispose();
    }
    sums.forEach((s, k) => out.push({ name: `flow_logdet/${k}`, value: s / n }));
  }
  if (model instanceof VqVae) {
    const counts = new Float64Array(model.codebookSize);
    let commitment = 0;
    const prior = model.codePriorTables();
    const fitted = isFitted(prior);
    let priorLogProb = 0;
    for (let start = 0; start < n; start += DECOMPOSITION_BATCH) {
      const count = Math.min(DECOMPOSITION_BATCH, n - start);
      const x = tf.tensor2d(pixels.subarray(start * inputDim, (start + count) * inputDim), [count, inputDim]);
      const stats = model.codeStats(x);
      x.dispose();
      commitment += stats.commitmentSum;
      stats.indices.forEach((c) => (counts[c] += 1));
      if (fitted) priorLogProb += codeLogProb(prior, stats.indices, count).reduce((a, b) => a + b, 0);
    }
    const usage = codeUsage(counts);
    out.push(
      { name: 'commitment', value: commitment / n },
      { name: 'perplexity', value: usage.perplexity },
      { name: 'codes_used', value: usage.used },
      { name: 'uniform_prior_kl', value: model.positions * Math.log(model.codebookSize) },
    );
    if (fitted) out.push({ name: 'code_prior_kl', value: -priorLogProb / n });
    codeShares(counts, codeShareBinWidth(model.codebookSize)).forEach((share, b) =>
      out.push({ name: `code_share/${String(b).padStart(2, '0')}`, value: share }),
    );
    codeCounts = counts;
  }
  return { points: out, codeCounts };
}
