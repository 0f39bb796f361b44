// `npm run bench:science`: the paper-scale check of issue #12, in one command.
//
// 1. pytorch/examples vae/main.py's setting: grey-level MNIST, 784-400-20 MLP, BCE, Adam 1e-3,
//    batch 128, 10 epochs; the workbench's test loss (-test/elbo on the 10,000 t10k images) beside
//    that script's published ~105.5 nats and beside the same model trained the same way by
//    bench/torch_science.py in the same run, on the same images.
// 2. Dynamically binarized MNIST (all 60,000 images, batch 128, Adam 1e-3, 10 epochs): the VAE, the
//    2-layer ladder VAE and an IWAE-objective VAE (k = 5), with test NLL by IWAE_5000 on the first
//    1,000 t10k images, ELBO, KL, active units and wall time; the same VAE in PyTorch beside them;
//    the IWAE paper's figures (after thousands of epochs) as the far anchor.
// 3. The same on Fashion-MNIST (when its IDX files are installed).
// 4. With --variants (issue #14): the model variants on dynamically binarized Fashion-MNIST (and
//    MNIST with --variant-datasets mnist,fashion-mnist), each on the plain VAE's data, networks
//    (784-400-20, or 400 hidden units to 16 codes of 64 dimensions) and budget: the diagonal Gaussian
//    VAE, the IAF and planar flow posteriors, VQ-VAE and beta-TCVAE; test ELBO, NLL by IWAE_k (not
//    for the VQ-VAE: its bound with the uniform prior is exact for every k), the KL and its
//    decomposition, the flows' summed mean log-determinant, the VQ-VAE's codebook perplexity and
//    the fraction of its codes in use.
//
//   npm run bench:science                       # the full setting (hours on 2 cores)
//   npm run bench:science -- --quick            # 1 epoch on 6,000 images, IWAE_500 on 200 (minutes)
//   npm run bench:science -- --epochs 2 --train-size 20000 --iwae-k 1000 --iwae-examples 500
//       [--test-size N] [--datasets mnist,fashion-mnist] [--skip-grey] [--no-torch] [--json FILE]
//   npm run bench:science -- --variants [--variants-only] [--models vae,iaf,planar,vq-vae,beta-tcvae]
//       [--variant-datasets fashion-mnist,mnist] [--flow-length 4] [--tc-beta 6]
//
// Prints markdown tables (the README's) and, with --json, writes every figure to FILE.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../src-main/api/config';
import { CONTROL, type TrainerEvent } from '../src-main/training/events';
import { evalTestSet, loadRunDataset } from '../src-main/training/runData';
import { train } from '../src-main/training/trainer';
import {
  metric,
  VARIANT_MODELS,
  variantConfig,
  variantFigures,
  variantTable,
  type Trained,
  type VariantFigures,
  type VariantModel,
} from './variants';
import { latentSizesOf } from '../src-main/api/modelReads';

interface Options {
  epochs: number;
  trainSize: number;
  testSize: number;
  iwaeK: number;
  iwaeExamples: number;
  datasets: string[];
  grey: boolean;
  torch: boolean;
  json: string | null;
  quick: boolean;
  /** The variants table (--variants, or --variants-only without the tables above it). */
  variants: boolean;
  variantsOnly: boolean;
  models: VariantModel[];
  variantDatasets: string[];
  flowLength: number;
  /** beta-TCVAE's weight on the total correlation (alpha = gamma = 1). */
  tcBeta: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const number = (flag: string, full: number, reduced: number): number => {
    const given = value(flag);
    if (given === undefined) return quick ? reduced : full;
    const n = Number(given);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got '${given}'`);
    return n;
  };
  return {
    quick,
    epochs: number('--epochs', 10, 1),
    trainSize: number('--train-size', 60_000, 6000),
    testSize: number('--test-size', 10_000, 10_000),
    iwaeK: number('--iwae-k', 5000, 500),
    iwaeExamples: number('--iwae-examples', 1000, 200),
    datasets: (value('--datasets') ?? 'mnist,fashion-mnist').split(',').filter(Boolean),
    grey: !argv.includes('--skip-grey'),
    torch: !argv.includes('--no-torch'),
    json: value('--json') ?? null,
    variants: argv.includes('--variants') || argv.includes('--variants-only'),
    variantsOnly: argv.includes('--variants-only'),
    models: (value('--models') ?? VARIANT_MODELS.join(','))
      .split(',')
      .filter(Boolean)
      .map((name) => {
        if (!(VARIANT_MODELS as readonly string[]).includes(name))
          throw new Error(`--models: '${name}' is not one of ${VARIANT_MODELS.join(', ')}`);
        return name as VariantModel;
      }),
    variantDatasets: (value('--variant-datasets') ?? 'fashion-mnist').split(',').filter(Boolean),
    flowLength: number('--flow-length', 4, 4),
    tcBeta: nonNegative('--tc-beta', value('--tc-beta') ?? '6'),
  };
}

function nonNegative(flag: string, given: string): number {
  const n = Number(given);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number >= 0, got '${given}'`);
  return n;
}

interface Figures {
  label: string;
  /** -test/elbo on the whole test set (pytorch/examples' "test loss"). */
  testLoss: number;
  /** -IWAE_k on the first iwaeExamples test images. */
  nll: number;
  /** -ELBO on those same images. */
  nllElboSubset: number;
  kl: number;
  activeUnits: number;
  trainSeconds: number;
  wallSeconds: number;
  backend: string;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs already trained in this invocation, by config: the variants table's VAE is the main table's. */
const trainedRuns = new Map<string, Trained>();

/** Trains one workbench run in this process (the trainer itself, as a worker would) and keeps its last metrics. */
async function trainWorkbench(label: string, config: RunConfig): Promise<Trained> {
  const key = JSON.stringify(config);
  const done = trainedRuns.get(key);
  if (done) return done;
  const control = new Int32Array(new SharedArrayBuffer(4));
  control[0] = CONTROL.run;
  const last = new Map<string, number>();
  let backend = '?';
  let totalSteps = Infinity;
  let trainEnd = 0;
  let error: string | null = null;
  const started = performance.now();
  const status = await train({ runId: `bench-${label}`, config, resumeFrom: null }, control, (event: TrainerEvent) => {
    if (event.type === 'started') {
      backend = event.backend;
      totalSteps = event.totalSteps;
    } else if (event.type === 'progress' && event.step === totalSteps) {
      trainEnd = performance.now();
    } else if (event.type === 'metrics') {
      for (const p of event.points) last.set(p.name, p.value);
    } else if (event.type === 'finished') {
      error = event.error;
    }
  });
  if (status !== 'completed') throw new Error(`workbench ${label}: ${status}${error ? `: ${error}` : ''}`);
  const trained = {
    last,
    backend,
    trainSeconds: (trainEnd - started) / 1000,
    wallSeconds: (performance.now() - started) / 1000,
  };
  trainedRuns.set(key, trained);
  return trained;
}

/** Trains one workbench run and reads its last evaluation as a row of the main tables. */
async function workbenchRun(label: string, config: RunConfig): Promise<Figures> {
  const run = await trainWorkbench(label, config);
  const get = (name: string) => metric(label, run, name);
  return {
    label,
    testLoss: -get('test/elbo'),
    nll: -get('test/iwae'),
    nllElboSubset: -get('test/elbo_iwae_subset'),
    kl: get('test/kl'),
    activeUnits: get('test/active_units'),
    trainSeconds: run.trainSeconds,
    wallSeconds: run.wallSeconds,
    backend: run.backend,
  };
}

function findTorchPython(): { python: string; version: string } | null {
  for (const python of [process.env.VAE_WORKBENCH_PYTHON, 'python3', '/usr/bin/python3', 'python']) {
    if (!python) continue;
    const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return null;
}

/** Writes the run's training images (bytes) and evaluated test set (float32) for the PyTorch side. */
async function exportImages(
  config: RunConfig,
  dir: string,
): Promise<{ train: string; test: string; trainCount: number; testCount: number }> {
  const data = await loadRunDataset(config);
  const bytes = Uint8Array.from(data.train.pixels, (v) => Math.round(v * 255));
  const test = evalTestSet(config, data).pixels;
  const name = `${config.data.dataset}-${config.data.binarization}`;
  const trainFile = join(dir, `${name}-train.u8`);
  const testFile = join(dir, `${name}-test.f32`);
  writeFileSync(trainFile, bytes);
  writeFileSync(testFile, new Uint8Array(test.buffer, test.byteOffset, test.byteLength));
  return { train: trainFile, test: testFile, trainCount: data.train.count, testCount: data.test.count };
}

/** The same model in PyTorch on the same images, in a child process (it runs while the workbench trains). */
function torchRun(
  python: string,
  files: Awaited<ReturnType<typeof exportImages>>,
  config: RunConfig,
): Promise<Figures> {
  const args = [
    join(import.meta.dirname, 'torch_science.py'),
    '--train',
    files.train,
    '--train-count',
    String(files.trainCount),
    '--test',
    files.test,
    '--test-count',
    String(files.testCount),
    '--epochs',
    String(config.train.epochs),
    '--batch',
    String(config.train.batchSize),
    '--lr',
    String(config.train.lr),
    '--hidden',
    String(config.model.hidden[0]),
    '--latent',
    String(latentSizesOf(config.model)[0]),
    '--iwae-k',
    String(config.eval.iwaeK),
    '--iwae-examples',
    String(config.eval.iwaeExamples),
    '--threads',
    '1',
  ];
  if (config.data.binarization === 'dynamic') args.push('--binarize');
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`torch_science.py exited ${code}: ${err.trim().slice(-2000)}`));
      const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
      resolve({
        label: `PyTorch ${r.torch} VAE (bench/torch_science.py)`,
        testLoss: -Number(r.testElbo),
        nll: -Number(r.iwae),
        nllElboSubset: -Number(r.testElboIwaeSubset),
        kl: Number(r.testKl),
        activeUnits: Number(r.activeUnits),
        trainSeconds: Number(r.trainSeconds),
        wallSeconds: Number(r.wallSeconds),
        backend: `pytorch ${r.torch}, ${r.threads} thread`,
      });
    });
  });
}

const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);

function baseConfig(options: Options, dataset: string, binarization: 'none' | 'dynamic'): RunConfigInput {
  return {
    model: { kind: 'vae', hidden: [400], latentDim: 20, likelihood: 'bernoulli' },
    data: { dataset, trainSize: options.trainSize, testSize: options.testSize, binarization },
    train: { epochs: options.epochs, batchSize: 128, lr: 1e-3, seed: 0 },
    // Evaluate once, after the last epoch: IWAE_5000 is the costly part.
    eval: { iwaeK: options.iwaeK, iwaeExamples: options.iwaeExamples, everyEpochs: options.epochs, gridSize: 8 },
  };
}

async function pair(
  label: string,
  input: RunConfigInput,
  torchPython: string | null,
  dir: string,
): Promise<{ workbench: Figures; torch: Figures | null }> {
  const config = parseRunConfig(input);
  let torchResult: Promise<Figures> | null = null;
  if (torchPython) torchResult = torchRun(torchPython, await exportImages(config, dir), config);
  log(`  ${label} (workbench${torchPython ? ' and PyTorch, side by side' : ''}) ...`);
  const workbench = await workbenchRun(label, config);
  const torch = torchResult ? await torchResult : null;
  return { workbench, torch };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const torchInfo = options.torch ? findTorchPython() : null;
  if (options.torch && !torchInfo) log('No python3 with torch and numpy found: the PyTorch rows are left out.');
  const dir = mkdtempSync(join(tmpdir(), 'vae-bench-science-'));
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}${torchInfo ? `, torch ${torchInfo.version}` : ''}`;
  const date = new Date().toISOString().slice(0, 10);
  const reduced =
    options.epochs !== 10 || options.trainSize !== 60_000 || options.iwaeK !== 5000 || options.iwaeExamples !== 1000;
  const settings =
    `${options.epochs} epoch${options.epochs === 1 ? '' : 's'} on ${options.trainSize.toLocaleString('en-US')} training images, ` +
    `test set: the first ${options.testSize.toLocaleString('en-US')} t10k images, NLL by IWAE_${options.iwaeK} on the first ` +
    `${options.iwaeExamples.toLocaleString('en-US')}; batch 128, Adam 1e-3, seed 0`;
  const out: string[] = [];
  const json: Record<string, unknown> = { date, machine, options, reduced, tables: {} };
  out.push(
    `Measured ${date} on ${machine}. Settings: ${settings}${reduced ? ' (REDUCED from the full setting: 10 epochs, 60,000 images, IWAE_5000 on 1,000)' : ''}.`,
  );
  out.push('');
  try {
    if (options.grey && !options.variantsOnly) {
      log('pytorch/examples vae/main.py setting (grey MNIST, 784-400-20, BCE):');
      const { workbench, torch } = await pair(
        'VAE (workbench)',
        baseConfig(options, 'mnist', 'none'),
        torchInfo?.python ?? null,
        dir,
      );
      out.push(
        'pytorch/examples `vae/main.py` setting: grey-level MNIST, 784-400-20 ReLU MLP, BCE (Bernoulli on grey levels), one sample.',
      );
      out.push('');
      out.push('| model | test loss (−ELBO, nats) | KL | train s | wall s | backend |');
      out.push('| --- | ---: | ---: | ---: | ---: | --- |');
      for (const r of [workbench, torch].filter((r): r is Figures => r !== null))
        out.push(
          `| ${r.label} | ${f2(r.testLoss)} | ${f2(r.kl)} | ${f1(r.trainSeconds)} | ${f1(r.wallSeconds)} | ${r.backend} |`,
        );
      out.push('| pytorch/examples `vae/main.py`, published (10 epochs, 60,000 images) | ~105.5 | | | | |');
      if (torch)
        out.push(
          '',
          `Workbench vs PyTorch test loss: ${f2((100 * (workbench.testLoss - torch.testLoss)) / torch.testLoss)} %.`,
        );
      out.push('');
      (json.tables as Record<string, unknown>).grey = { workbench, torch };
    }
    for (const dataset of options.variantsOnly ? [] : options.datasets) {
      log(`Dynamically binarized ${dataset}:`);
      const base = baseConfig(options, dataset, 'dynamic');
      const rows: Figures[] = [];
      let vae: Figures;
      let torchVae: Figures | null;
      try {
        ({ workbench: vae, torch: torchVae } = await pair(
          'VAE 784-400-20 (workbench)',
          base,
          torchInfo?.python ?? null,
          dir,
        ));
      } catch (error) {
        if (dataset !== 'mnist' && /not found/.test((error as Error).message)) {
          log(`  skipped: ${(error as Error).message}`);
          continue;
        }
        throw error;
      }
      rows.push(vae);
      if (torchVae) rows.push(torchVae);
      log('  ladder VAE ...');
      rows.push(
        await workbenchRun(
          'ladder VAE, 2 layers 20-10, hidden 400-200 (workbench)',
          parseRunConfig({ ...base, model: { kind: 'ladder', ladderLatentDims: [20, 10], hidden: [400, 200] } }),
        ),
      );
      log('  IWAE objective, k = 5 ...');
      rows.push(
        await workbenchRun(
          'VAE 784-400-20, IWAE objective k = 5 (workbench)',
          parseRunConfig({ ...base, train: { ...base.train, objective: 'iwae', objectiveSamples: 5 } }),
        ),
      );
      out.push(`Dynamically binarized ${dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST'}:`);
      out.push('');
      out.push(
        `| model | NLL (−IWAE_${options.iwaeK}, first ${options.iwaeExamples}) | −ELBO (same images) | −ELBO (all ${options.testSize}) | KL | active units | train s | wall s |`,
      );
      out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const r of rows)
        out.push(
          `| ${r.label} | ${f2(r.nll)} | ${f2(r.nllElboSubset)} | ${f2(r.testLoss)} | ${f2(r.kl)} | ${r.activeUnits} | ${f1(r.trainSeconds)} | ${f1(r.wallSeconds)} |`,
        );
      if (dataset === 'mnist') {
        out.push(
          '| IWAE paper (Burda et al. 2015), VAE 1 stochastic layer, k = 5000, thousands of epochs | 86.76 | | | | | | |',
        );
        out.push('| IWAE paper, VAE 2 stochastic layers | 85.33 | | | | | | |');
        out.push('| IWAE paper, IWAE 2 stochastic layers, k = 50 | 82.90 | | | | | | |');
      }
      if (torchVae)
        out.push('', `Workbench vs PyTorch VAE NLL: ${f2((100 * (vae.nll - torchVae.nll)) / torchVae.nll)} %.`);
      out.push('');
      (json.tables as Record<string, unknown>)[dataset] = rows;
    }
    for (const dataset of options.variants ? options.variantDatasets : []) {
      log(`Model variants on dynamically binarized ${dataset}:`);
      const base = baseConfig(options, dataset, 'dynamic');
      const rows: VariantFigures[] = [];
      try {
        for (const model of options.models) {
          const { label, input } = variantConfig(model, base, options);
          const config = parseRunConfig(input);
          log(`  ${label} ...`);
          rows.push(variantFigures(model, label, config, await trainWorkbench(label, config)));
        }
      } catch (error) {
        if (dataset !== 'mnist' && /not found/.test((error as Error).message)) {
          log(`  skipped: ${(error as Error).message}`);
          continue;
        }
        throw error;
      }
      out.push(...variantTable(dataset, rows, options), '');
      (json.tables as Record<string, unknown>)[`${dataset}-variants`] = rows;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
