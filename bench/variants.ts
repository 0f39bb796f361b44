// The variants table of `npm run bench:science -- --variants` (issue #14): each model variant on
// the plain VAE's data, networks and budget, and the figures read from its last evaluation. Pure
// functions (no training here), so the table's layout and its reading of the metrics are tested.
import type { RunConfig, RunConfigInput } from '../src-main/api/config';
import { modelOfKind } from '../src-main/api/modelReads';

/** The rows of the variants table, by --models name. */
export const VARIANT_MODELS = ['vae', 'iaf', 'planar', 'vq-vae', 'beta-tcvae'] as const;
export type VariantModel = (typeof VARIANT_MODELS)[number];

/** What one workbench run left: the last value of every metric, its backend and its times. */
export interface Trained {
  last: Map<string, number>;
  backend: string;
  trainSeconds: number;
  wallSeconds: number;
}

/** The last value of `name`; a run without it is a bench error. */
export function metric(label: string, run: Trained, name: string): number {
  const v = run.last.get(name);
  if (v === undefined) throw new Error(`workbench ${label}: no ${name}`);
  return v;
}

const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);

/** One row of the variants table; null where the model has no such figure. */
export interface VariantFigures {
  model: VariantModel;
  label: string;
  /** -test/elbo on the whole test set (for the VQ-VAE: recon + P log K, the uniform-prior bound). */
  testLoss: number;
  /** -IWAE_k on the first iwaeExamples test images; null for the VQ-VAE (its bound is exact for every k). */
  nll: number | null;
  nllElboSubset: number;
  recon: number;
  kl: number;
  mi: number | null;
  tc: number | null;
  dwkl: number | null;
  activeUnits: number | null;
  /** Sum over the flow's steps of the mean log|det J_k| on the test set. */
  flowLogDet: number | null;
  flowSteps: number | null;
  perplexity: number | null;
  /** The VQ-VAE's -ELBO with its fitted autoregressive code prior (recon + KL to that prior). */
  testLossCodePrior: number | null;
  /** Fraction of the K codes used on the test set. */
  codesUsed: number | null;
  codebookSize: number | null;
  trainSeconds: number;
  wallSeconds: number;
  backend: string;
}

/** The variant `model` on the plain VAE's data and budget (base): its label and config. */
export function variantConfig(
  model: VariantModel,
  base: RunConfigInput,
  options: { flowLength: number; tcBeta: number },
): { label: string; input: RunConfigInput } {
  const shared = { hidden: [400], likelihood: 'bernoulli' as const };
  const gaussian = { ...shared, kind: 'vae' as const, latentDim: 20 };
  const k = options.flowLength;
  switch (model) {
    case 'vae':
      return { label: 'VAE 784-400-20, diagonal Gaussian q(z|x)', input: { ...base, model: gaussian } };
    case 'iaf':
      return {
        label: `VAE 784-400-20, IAF posterior, ${k} step${k === 1 ? '' : 's'}`,
        input: { ...base, model: { ...gaussian, posterior: 'iaf', flowLength: k } },
      };
    case 'planar':
      return {
        label: `VAE 784-400-20, planar-flow posterior, ${k} step${k === 1 ? '' : 's'}`,
        input: { ...base, model: { ...gaussian, posterior: 'planar', flowLength: k } },
      };
    case 'vq-vae':
      return {
        label: 'VQ-VAE 784-400-(16 x 64), K = 512, EMA codebook',
        input: { ...base, model: { ...shared, kind: 'vq-vae' } },
      };
    case 'beta-tcvae':
      return {
        label: `beta-TCVAE 784-400-20, alpha = 1, beta = ${options.tcBeta}, gamma = 1`,
        input: { ...base, model: { ...shared, kind: 'beta-tcvae', latentDim: 20, beta: options.tcBeta } },
      };
  }
}

/** A variants-table row from a run's last metrics. */
export function variantFigures(model: VariantModel, label: string, config: RunConfig, run: Trained): VariantFigures {
  const get = (name: string) => metric(label, run, name);
  const optional = (name: string) => run.last.get(name) ?? null;
  const logDets = [...run.last].filter(([name]) => /^test\/flow_logdet\/\d+$/.test(name)).map(([, v]) => v);
  const vq = config.model.kind === 'vq-vae';
  return {
    model,
    label,
    testLoss: -get('test/elbo'),
    nll: vq ? null : -get('test/iwae'),
    nllElboSubset: -get('test/elbo_iwae_subset'),
    recon: get('test/recon'),
    kl: get('test/kl'),
    mi: optional('test/mi'),
    tc: optional('test/tc'),
    dwkl: optional('test/dwkl'),
    activeUnits: optional('test/active_units'),
    flowLogDet: logDets.length > 0 ? logDets.reduce((a, b) => a + b, 0) : null,
    flowSteps: logDets.length > 0 ? logDets.length : null,
    perplexity: vq ? get('test/perplexity') : null,
    testLossCodePrior: vq ? -get('test/elbo_code_prior') : null,
    codesUsed: vq ? get('test/codes_used') : null,
    codebookSize: vq ? modelOfKind(config.model, 'vq-vae').codebookSize : null,
    trainSeconds: run.trainSeconds,
    wallSeconds: run.wallSeconds,
    backend: run.backend,
  };
}

const orDash = (v: number | null, format: (v: number) => string = f2) => (v === null ? '—' : format(v));

/** The variants table of one data set, in markdown, with the notes that say what each column is. */
export function variantTable(
  dataset: string,
  rows: readonly VariantFigures[],
  options: { iwaeK: number; iwaeExamples: number; testSize: number },
): string[] {
  const name = dataset === 'mnist' ? 'MNIST' : dataset === 'fashion-mnist' ? 'Fashion-MNIST' : dataset;
  const out = [
    `Model variants on dynamically binarized ${name}, same data, networks and budget:`,
    '',
    `| model | −ELBO (all ${options.testSize}) | NLL (−IWAE_${options.iwaeK}, first ${options.iwaeExamples}) | −ELBO (same images) | recon | KL | MI | TC | DWKL | active units | Σ mean log-det | perplexity | codes used | train s | wall s |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows)
    out.push(
      `| ${r.label} | ${f2(r.testLoss)} | ${orDash(r.nll)} | ${f2(r.nllElboSubset)} | ${f2(r.recon)} | ${f2(r.kl)} | ` +
        `${orDash(r.mi)} | ${orDash(r.tc)} | ${orDash(r.dwkl)} | ${orDash(r.activeUnits, String)} | ${orDash(r.flowLogDet)} | ` +
        `${orDash(r.perplexity, f1)} | ${r.codesUsed === null ? '—' : `${f1(100 * r.codesUsed)} % of ${r.codebookSize}`} | ` +
        `${f1(r.trainSeconds)} | ${f1(r.wallSeconds)} |`,
    );
  out.push(
    '',
    "KL: the Monte Carlo KL of one posterior sample (a flow's log q_K(z_K|x) − log p(z_K)); MI + TC + DWKL: its " +
      'decomposition on the test set (Chen et al. 2018), for the models with a diagonal Gaussian posterior. ' +
      "Σ mean log-det: the flow's log|det J_k| summed over its steps, averaged over the test set. The VQ-VAE's " +
      '−ELBO is recon + P log K, the bound with a uniform prior over its K codes at each of its P positions; ' +
      'it is exact for every IWAE k, so it has no separate NLL; perplexity exp(H(p̄)) and codes used are over ' +
      'all code positions of the test set.',
  );
  for (const r of rows)
    if (r.testLossCodePrior !== null)
      out.push(
        '',
        `${r.label}: −ELBO with its fitted first-order autoregressive code prior (mixed with 1 % uniform) ` +
          `in place of the uniform one: ${f2(r.testLossCodePrior)} nats (recon ${f2(r.recon)} + KL to that prior ` +
          `${f2(r.testLossCodePrior - r.recon)}).`,
      );
  const vae = rows.find((r) => r.model === 'vae');
  const iaf = rows.find((r) => r.model === 'iaf');
  if (vae && iaf)
    out.push(
      '',
      `IAF minus diagonal Gaussian test ELBO: ${f2(vae.testLoss - iaf.testLoss)} nats ` +
        `(${iaf.testLoss < vae.testLoss ? 'the IAF posterior is tighter' : 'the IAF posterior is NOT tighter'} on this budget).`,
    );
  return out;
}
