// `npm run bench`: trains the product's 784-512-32 MLP VAE (batch 128, Adam, Bernoulli) for a fixed
// number of steps on every available backend (tfjs-node, wasm + native sgemm, wasm with the
// transposed-product fast path, wasm with the built-in kernels, cpu) and, when a python3 with torch
// is present, the equivalent PyTorch script (bench/torch_vae.py), in the same run; then two runs in
// parallel (worker threads), metrics ingest and series query on the store. Each configuration runs
// in its own child process (own peak memory), `--repeats` times interleaved, and the median is
// reported: other work on the machine makes single numbers noisy.
//
//   node --import tsx bench/bench.ts [--json] [--repeats 3] [--steps 60] [--quick] [--profile]
//                                    [--threads N] [--coretype SkylakeX] [--training-only]
// --threads: BLAS threads per run, ours and PyTorch's (default 1); --coretype: OPENBLAS_CORETYPE for
// every row (the tuned environment); --training-only: skip the store and compare view sections.
// --profile: only the per-kernel profile of one training step and the sgemm ceiling (profile.ts),
// also written to bench/results/profile.json.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchIngest, benchSeriesQuery } from '../src-main/store';
import { benchCompareView } from './compareView';
import { benchEventLoop } from './eventLoop';
import type { TrainBenchOptions, TrainBenchResult } from './train';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { prepareBlasCore } from '../src-main/training/accelerate/blasCore';
import { formatProfile, type StepProfile } from './profileFormat';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
};
const json = flag('json');
const quick = flag('quick');
const repeats = option('repeats', quick ? 1 : 5);
const steps = option('steps', quick ? 20 : 60);
// ---- BLAS kernel and threads, the same for every configuration and for PyTorch ----
// --threads N: BLAS threads per run (ours and PyTorch's; default 1). --coretype NAME: set
// OPENBLAS_CORETYPE for everything (the "tuned" environment); otherwise the workbench's own choice
// (accelerate/blasCore.ts) is made here, before any child loads OpenBLAS, and inherited by all.
const threads = option('threads', 1);
const coretypeArg = argv.indexOf('--coretype');
if (coretypeArg >= 0 && argv[coretypeArg + 1]) process.env.OPENBLAS_CORETYPE = argv[coretypeArg + 1];
const blasChoice = prepareBlasCore(join(here, '..', 'native', 'index.cjs'));
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

interface Config {
  key: string;
  label: string;
  options: TrainBenchOptions;
}

const CONFIGS: Config[] = [
  { key: 'tfjs-node', label: 'tfjs-node', options: { backend: 'tensorflow', steps, threads } },
  {
    key: 'wasm-native',
    label: 'wasm + native sgemm',
    options: { backend: 'wasm', accelerator: 'native-sgemm', steps, threads },
  },
  {
    key: 'wasm-native-conv',
    label: 'conv VAE: wasm + native sgemm',
    options: {
      backend: 'wasm',
      accelerator: 'native-sgemm',
      architecture: 'conv',
      steps: Math.max(4, Math.round(steps / 6)),
      threads,
    },
  },
  {
    key: 'wasm-fast',
    label: 'wasm, transpose fast path',
    options: { backend: 'wasm', accelerator: 'wasm-transpose-fast-path', steps, threads },
  },
  {
    key: 'wasm-builtin',
    label: 'wasm, built-in kernels (before)',
    options: { backend: 'wasm', accelerator: 'none', steps: Math.max(4, Math.round(steps / 8)) },
  },
  { key: 'cpu', label: 'cpu', options: { backend: 'cpu', steps: Math.max(2, Math.round(steps / 20)), warmup: 1 } },
];

interface Outcome {
  ok: boolean;
  result?: TrainBenchResult & { runs?: TrainBenchResult[] };
  error?: string;
}

function runChild(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: join(here, '..'), env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function train(options: TrainBenchOptions & { parallel?: number }): Promise<Outcome> {
  const { code, stdout, stderr } = await runChild(
    process.execPath,
    ['--import', 'tsx', join(here, 'train.ts'), JSON.stringify(options)],
    600_000,
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    const message = (
      stderr.match(/^\w*Error: [^\n]*/m)?.[0] ??
      stderr.trim().split('\n').pop() ??
      `exit ${code}`
    ).slice(0, 240);
    return { ok: false, error: message };
  }
  return { ok: true, result: JSON.parse(line) };
}

function findTorchPython(): { python: string; version: string } | null {
  for (const python of ['python3', '/usr/bin/python3', 'python']) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return null;
}

async function torch(python: string, architecture: 'mlp' | 'conv' = 'mlp'): Promise<Outcome> {
  const torchSteps = architecture === 'conv' ? Math.max(4, Math.round(steps / 6)) : steps;
  const { code, stdout, stderr } = await runChild(
    python,
    [join(here, 'torch_vae.py'), '--steps', String(torchSteps), '--threads', String(threads), '--arch', architecture],
    300_000,
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{'))
    return { ok: false, error: (stderr.trim().split('\n').pop() ?? `exit ${code}`).slice(0, 200) };
  return { ok: true, result: JSON.parse(line) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? NaN
    : sorted.length % 2
      ? sorted[(sorted.length - 1) / 2]
      : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

interface Row {
  key: string;
  label: string;
  available: boolean;
  reason?: string;
  samplesPerSec?: number;
  samplesPerSecRuns?: number[];
  medianStepMs?: number;
  peakRssMb?: number;
  steps?: number;
  detail?: string;
}

function summarize(key: string, label: string, outcomes: Outcome[]): Row {
  const good = outcomes.filter((o) => o.ok && o.result);
  if (good.length === 0)
    return { key, label, available: false, reason: outcomes.find((o) => o.error)?.error ?? 'not run' };
  const runs = good.map((o) => o.result!.samplesPerSec);
  return {
    key,
    label,
    available: true,
    samplesPerSec: median(runs),
    samplesPerSecRuns: runs.map((r) => Math.round(r)),
    medianStepMs: median(good.map((o) => o.result!.medianStepMs)),
    peakRssMb: Math.max(...good.map((o) => o.result!.maxRssMb)),
    steps: good[0].result!.steps,
    detail:
      good[0].result!.acceleratorDetail ?? (good[0].result as unknown as { threads?: number }).threads?.toString(),
  };
}

// ---- --profile: the per-kernel profile of one step and the sgemm ceiling (bench/profile.ts) ----
async function profileRun(options: Partial<TrainBenchOptions>): Promise<StepProfile | { error: string }> {
  const { code, stdout, stderr } = await runChild(
    process.execPath,
    ['--import', 'tsx', join(here, 'profile.ts'), JSON.stringify(options)],
    600_000,
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{'))
    return { error: (stderr.trim().split('\n').pop() ?? `exit ${code}`).slice(0, 240) };
  return JSON.parse(line) as StepProfile;
}

async function profileMain(): Promise<void> {
  const profiles: Record<string, StepProfile | { error: string }> = {};
  for (const architecture of quick ? (['mlp'] as const) : (['mlp', 'conv'] as const)) {
    log(`  profiling one ${architecture} VAE step (${steps} steps) ...`);
    profiles[architecture] = await profileRun({ architecture, steps, threads });
  }
  const report = { loadAverage: loadavg().map((l) => Number(l.toFixed(2))), profiles };
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'profile.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const out = [`load average ${report.loadAverage.join(' ')}`];
  for (const p of Object.values(profiles)) out.push('error' in p ? `profile failed: ${p.error}` : formatProfile(p), '');
  out.push(`(written to bench/results/profile.json)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const torchPython = findTorchPython();
  log(`VAE Workbench benchmark: 784-512-32 MLP VAE, batch 128, Adam, Bernoulli; ${repeats} repeat(s), median reported`);
  // tfjs-node: probe once; skip its repeats when it cannot load.
  const outcomes = new Map<string, Outcome[]>();
  const parallelOutcomes: Outcome[] = [];
  const torchOutcomes: Outcome[] = [];
  const torchConvOutcomes: Outcome[] = [];
  // The step's flops and the sgemm limit of each architecture, measured first (profile.ts).
  const sgemmLimits: Record<string, StepProfile | { error: string }> = {};
  for (const architecture of quick ? (['mlp'] as const) : (['mlp', 'conv'] as const)) {
    log(`  ${architecture} VAE: step profile and sgemm limit ...`);
    sgemmLimits[architecture] = await profileRun({ architecture, steps: architecture === 'conv' ? 4 : 20, threads });
  }
  const available = new Set<string>();
  // Per repeat, the runs that are compared are adjacent in time (native, PyTorch, parallel), and
  // ratios are taken per repeat, then the median: load from other work drifts between repeats.
  const order = [
    'wasm-native',
    'pytorch',
    'parallel',
    ...(quick ? [] : ['wasm-native-conv', 'pytorch-conv']),
    'wasm-fast',
    'wasm-builtin',
    'tfjs-node',
    'cpu',
  ];
  for (let r = 0; r < repeats; r++) {
    for (const key of order) {
      if (key === 'pytorch') {
        if (!torchPython) continue;
        log(`  [${r + 1}/${repeats}] pytorch ...`);
        torchOutcomes.push(await torch(torchPython.python));
        continue;
      }
      if (key === 'pytorch-conv') {
        if (!torchPython) continue;
        log(`  [${r + 1}/${repeats}] pytorch conv VAE ...`);
        torchConvOutcomes.push(await torch(torchPython.python, 'conv'));
        continue;
      }
      if (key === 'parallel') {
        const parallelConfig = CONFIGS.find(
          (c) => c.key === (available.has('wasm-native') ? 'wasm-native' : 'wasm-fast'),
        )!;
        log(`  [${r + 1}/${repeats}] 2 x ${parallelConfig.label} in parallel ...`);
        parallelOutcomes.push(await train({ ...parallelConfig.options, parallel: 2 }));
        continue;
      }
      const config = CONFIGS.find((c) => c.key === key)!;
      // A configuration that cannot run (tfjs-node not installed) is tried once.
      if (r > 0 && !available.has(config.key)) {
        outcomes.set(config.key, [
          ...(outcomes.get(config.key) ?? []),
          { ok: false, error: outcomes.get(config.key)?.[0]?.error },
        ]);
        continue;
      }
      log(`  [${r + 1}/${repeats}] ${config.label} ...`);
      let outcome = await train({ ...config.options, seed: 7 });
      // A forced accelerator that fell back is not that accelerator.
      if (outcome.ok && config.options.accelerator && outcome.result!.accelerator !== config.options.accelerator) {
        outcome = { ok: false, error: `got ${outcome.result!.accelerator}` };
      }
      if (outcome.ok) available.add(config.key);
      outcomes.set(config.key, [...(outcomes.get(config.key) ?? []), outcome]);
    }
  }

  const rows = CONFIGS.map((c) => summarize(c.key, c.label, outcomes.get(c.key) ?? []));
  const torchRow = torchPython
    ? summarize('pytorch', `pytorch ${torchPython.version}`, torchOutcomes)
    : { key: 'pytorch', label: 'pytorch', available: false, reason: 'no python3 with torch found' };

  const parallelKey = available.has('wasm-native') ? 'wasm-native' : 'wasm-fast';
  const alone = rows.find((r) => r.key === parallelKey)!;
  const parallelGood = parallelOutcomes.filter((o) => o.ok);
  const perRun = [0, 1].map((i) =>
    median(parallelGood.map((o) => (o.result as unknown as { runs: TrainBenchResult[] }).runs[i].samplesPerSec)),
  );
  const parallel = {
    config: alone.label,
    samplesPerSecEach: perRun,
    ratioToAlone: perRun.map((v) => v / alone.samplesPerSec!),
    peakRssMb: Math.max(0, ...parallelGood.map((o) => (o.result as unknown as { maxRssMb: number }).maxRssMb)),
    blas: parallelGood[0]
      ? (parallelGood[0].result as unknown as { runs: TrainBenchResult[] }).runs[0].acceleratorDetail
      : undefined,
  };

  log('  store: metrics ingest and series query ...');
  // --training-only: the training rows alone (the store and compare view sections at their smallest).
  const small = quick || flag('training-only');
  const ingest = benchIngest(small ? 100_000 : 1_000_000, 1000);
  const query = benchSeriesQuery(small ? 100_000 : 1_000_000, 1000, 11);
  const storeRssMb = process.resourceUsage().maxRSS / 1024;

  log('  compare view: 50 runs x 100,000 points in chromium ...');
  const compare = await (flag('training-only')
    ? Promise.resolve({ error: 'skipped (--training-only)' })
    : benchCompareView({
        runs: quick ? 10 : 50,
        pointsPerRun: quick ? 20_000 : 100_000,
        repeats: quick ? 2 : 5,
      }).catch((error: unknown) => ({ error: (error as Error).message.split('\n')[0] })));

  // The main thread's event-loop delay under the heaviest load (issue #11; bench/eventLoop.ts).
  const eventLoop = await benchEventLoop({ quick, log }).catch((error: unknown) => ({
    error: (error as Error).message.split('\n')[0],
  }));

  /** Median over repeats of (a's samples/s / b's samples/s), both from the same repeat. */
  const pairedRatio = (
    a: Outcome[],
    b: Outcome[],
    pick: (o: Outcome) => number[] = (o) => [o.result!.samplesPerSec],
  ): number | null => {
    const ratios: number[] = [];
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!a[i]?.ok || !b[i]?.ok) continue;
      for (const v of pick(a[i])) ratios.push(v / b[i].result!.samplesPerSec);
    }
    return ratios.length ? median(ratios) : null;
  };
  const native = rows.find((r) => r.key === 'wasm-native')!;
  const torchConvRow = torchPython
    ? summarize('pytorch-conv', `conv VAE: pytorch ${torchPython.version}`, torchConvOutcomes)
    : { key: 'pytorch-conv', label: 'conv VAE: pytorch', available: false, reason: 'no python3 with torch found' };
  // Per row: the PyTorch row of the same model, the step's flops and sgemm limit (profile.ts).
  const isConv = (key: string) => key.endsWith('-conv');
  const reference = (key: string) =>
    isConv(key) ? { row: torchConvRow, outcomes: torchConvOutcomes } : { row: torchRow, outcomes: torchOutcomes };
  const limitOf = (key: string) => {
    const p = sgemmLimits[isConv(key) ? 'conv' : 'mlp'];
    return p && !('error' in p) ? p : null;
  };
  const memory = (a: Row, b: Row) => (a.available && b.available ? a.peakRssMb! <= b.peakRssMb! : false);
  const targets = [
    {
      name: `MLP VAE: wasm + native sgemm >= 1.0x PyTorch (same BLAS kernel, ${threads} thread(s))`,
      value: pairedRatio(outcomes.get('wasm-native') ?? [], torchOutcomes),
      goal: 1,
    },
    ...(quick
      ? []
      : [
          {
            name: 'conv VAE: wasm + native sgemm >= 0.5x PyTorch',
            value: pairedRatio(outcomes.get('wasm-native-conv') ?? [], torchConvOutcomes),
            goal: 0.5,
          },
        ]),
    {
      name: 'plain wasm (fast path) >= 2x built-in kernels',
      value: pairedRatio(outcomes.get('wasm-fast') ?? [], outcomes.get('wasm-builtin') ?? []),
      goal: 2,
    },
    {
      name: 'two parallel runs each >= 0.9x alone',
      value: pairedRatio(parallelOutcomes, outcomes.get(parallelKey) ?? [], (o) => [
        Math.min(...(o.result as unknown as { runs: TrainBenchResult[] }).runs.map((run) => run.samplesPerSec)),
      ]),
      goal: 0.9,
    },
    {
      name: 'MLP VAE peak memory per run <= PyTorch (1 = met)',
      value: memory(native, torchRow) ? 1 : 0,
      goal: 1,
    },
  ].map((t) => ({ ...t, met: t.value !== null && t.value >= t.goal }));
  // Targets of the store (issue #4) and the compare view (issue #5): lower is better for times.
  const limits = [
    {
      name: 'metrics ingest >= 100,000 points/s',
      value: ingest.pointsPerSecond,
      goal: 100_000,
      unit: 'points/s',
      higherIsBetter: true,
    },
    {
      name: `series of ${query.points.toLocaleString('en-US')} points to <= 1,000 buckets < 50 ms`,
      value: query.medianMs,
      goal: 50,
      unit: 'ms',
      higherIsBetter: false,
    },
    ...('error' in compare
      ? []
      : [
          {
            name: `compare view redraw after a selection change (${compare.runs} runs x ${compare.pointsPerRun.toLocaleString('en-US')} points) < 100 ms script`,
            value: compare.toggleScriptMs,
            goal: 100,
            unit: 'ms',
            higherIsBetter: false,
          },
          {
            name: `first load of the page (cold, ${compare.runs} runs listed) < 300 ms script`,
            value: compare.firstLoad.scriptMs,
            goal: 300,
            unit: 'ms',
            higherIsBetter: false,
          },
        ]),
    ...('error' in eventLoop ? [] : eventLoop.targets.map((t) => ({ ...t, unit: 'ms', higherIsBetter: false }))),
  ].map((t) => ({ ...t, met: t.higherIsBetter ? t.value >= t.goal : t.value < t.goal }));

  const report = {
    model: '784-512-32 MLP VAE, batch 128, Adam, Bernoulli',
    repeats,
    steps,
    seconds: Math.round((Date.now() - started) / 1000),
    loadAverage: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(2))),
    blas: { threads, coreChoice: blasChoice, openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null },
    sgemmLimit: Object.fromEntries(
      Object.entries(sgemmLimits).map(([architecture, p]) => [
        architecture,
        'error' in p ? p : { ...p.ceiling, flopsPerStep: p.gemm.flopsPerStep, batchSize: p.batchSize },
      ]),
    ),
    training: [torchRow, ...rows.slice(0, 1), torchConvRow, ...rows.slice(1)].map((r) => {
      const ref = reference(r.key);
      const limit = limitOf(r.key);
      const own = r.key === 'pytorch' || r.key === 'pytorch-conv' ? ref.outcomes : (outcomes.get(r.key) ?? []);
      return {
        ...r,
        architecture: isConv(r.key) ? 'conv' : 'mlp',
        ratioToPytorch: r.available && ref.row.available ? r.samplesPerSec! / ref.row.samplesPerSec! : null,
        pairedRatioToPytorch: r.available && ref.row.available ? pairedRatio(own, ref.outcomes) : null,
        // GFLOP/s of the step's matrix products at this row's speed, and that speed over the sgemm limit.
        gflops:
          r.available && limit
            ? Number(((limit.gemm.flopsPerStep * r.samplesPerSec!) / limit.batchSize / 1e9).toFixed(2))
            : null,
        fractionOfSgemmLimit:
          r.available && limit?.ceiling
            ? Number((r.samplesPerSec! / limit.ceiling.limitSamplesPerSec).toFixed(3))
            : null,
      };
    }),
    parallel,
    store: { ingest, seriesQuery: query, peakRssMb: storeRssMb },
    compareView: compare,
    eventLoop,
    targets,
    limits,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const fmt = (n: number | undefined, digits = 0) =>
    n === undefined || Number.isNaN(n)
      ? '-'
      : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const out: string[] = [];
  out.push('');
  out.push(
    `VAE Workbench benchmark - ${report.model}; median of ${repeats} run(s); load average ${report.loadAverage.join(' ')}`,
  );
  out.push('');
  out.push(
    `${'backend'.padEnd(34)}${'samples/s'.padStart(11)}${'vs PyTorch'.padStart(12)}${'paired'.padStart(8)}${'GFLOP/s'.padStart(9)}${'of limit'.padStart(10)}${'step ms'.padStart(10)}${'peak RSS'.padStart(11)}  steps  samples/s per repeat`,
  );
  for (const r of report.training) {
    if (!r.available) {
      out.push(`${r.label.padEnd(34)}  unavailable: ${r.reason}`);
      continue;
    }
    out.push(
      `${r.label.padEnd(34)}${fmt(r.samplesPerSec).padStart(11)}${(r.ratioToPytorch === null ? '-' : `${r.ratioToPytorch.toFixed(2)}x`).padStart(12)}${(r.pairedRatioToPytorch === null ? '-' : `${r.pairedRatioToPytorch.toFixed(2)}x`).padStart(8)}${(r.gflops === null ? '-' : fmt(r.gflops, 1)).padStart(9)}${(r.fractionOfSgemmLimit === null ? '-' : r.fractionOfSgemmLimit.toFixed(2)).padStart(10)}${fmt(r.medianStepMs, 1).padStart(10)}${`${fmt(r.peakRssMb)} MB`.padStart(11)}  ${String(r.steps).padEnd(5)}  ${r.samplesPerSecRuns!.join(', ')}`,
    );
  }
  out.push('');
  out.push(
    `parallel: 2 x ${parallel.config} (worker threads): ${parallel.samplesPerSecEach.map((v) => fmt(v)).join(' + ')} samples/s = ${parallel.ratioToAlone.map((v) => v.toFixed(2)).join(' / ')} of alone; peak RSS ${fmt(parallel.peakRssMb)} MB`,
  );
  if (native.detail) out.push(`native sgemm: ${native.detail}`);
  out.push(`BLAS: ${threads} thread(s) per run for every row, PyTorch included; ${blasChoice.reason}`);
  for (const [architecture, limit] of Object.entries(report.sgemmLimit))
    out.push(
      'error' in limit
        ? `sgemm limit (${architecture}): not measured (${limit.error})`
        : `sgemm limit (${architecture}): ${fmt(limit.limitSamplesPerSec ?? NaN)} samples/s (${fmt(limit.limitStepMs ?? NaN, 2)} ms of products per step at ${fmt(limit.gflops ?? NaN, 1)} GFLOP/s; 1024^3 peak ${fmt(limit.peakGflops ?? NaN, 1)} GFLOP/s)`,
    );
  out.push(
    `metrics ingest: ${fmt(ingest.pointsPerSecond)} points/s (${fmt(ingest.points)} points, batches of ${ingest.batchSize})`,
  );
  out.push(
    `series query: ${fmt(query.medianMs, 2)} ms median (${fmt(query.points)} points -> ${query.buckets} buckets), window ${fmt(query.windowMedianMs, 2)} ms; peak RSS ${fmt(storeRssMb)} MB`,
  );
  if ('error' in compare) out.push(`compare view: not measured (${compare.error})`);
  else
    out.push(
      `compare view (${compare.runs} runs x ${fmt(compare.pointsPerRun)} points, chromium script time): open ${fmt(compare.openScriptMs)} ms, tick one more run ${fmt(compare.toggleScriptMs)} ms, select all ${fmt(compare.selectAllScriptMs)} ms, smoothing change ${fmt(compare.smoothingScriptMs)} ms`,
      `first load (cold, median of ${compare.firstLoad.loads}): ${fmt(compare.firstLoad.scriptMs)} ms script (each ${compare.firstLoad.scriptMsEach.map((v) => fmt(v)).join(', ')}), DOMContentLoaded ${fmt(compare.firstLoad.domContentLoadedMs)} ms, load ${fmt(compare.firstLoad.loadEventMs)} ms, ${compare.firstLoad.scripts} scripts (${fmt(compare.firstLoad.scriptKb)} kB)`,
    );
  out.push('');
  for (const t of limits)
    out.push(`  [${t.met ? 'met' : 'NOT met'}] ${t.name}: ${fmt(t.value, t.unit === 'ms' ? 1 : 0)} ${t.unit}`);
  out.push('');
  out.push(
    'targets (median over repeats of the ratio within each repeat; "vs PyTorch" above is the ratio of medians):',
  );
  for (const t of targets)
    out.push(
      `  [${t.met ? 'met' : 'NOT met'}] ${t.name}: ${t.value === null ? 'not measured' : `${t.value.toFixed(2)}x`}`,
    );
  out.push(`(${report.seconds} s)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await (flag('profile') ? profileMain() : main());

// The queue's overhead (bench/queue.ts, issue #18): a run through one local `vae-workbench worker`
// against the same run in-process, and ingest from four producers at once. Needs redis-server (the
// line says why not otherwise); --no-queue skips it.
if (!flag('profile') && !flag('no-queue')) {
  const { benchQueue, formatQueueBench } = await import('./queue');
  log('  queue: BullMQ on a local redis-server ...');
  const queue = await benchQueue({ repeats: quick ? 1 : repeats, quick, log }).catch((error: unknown) => ({
    error: (error as Error).message.split('\n')[0],
  }));
  if (json) process.stdout.write(`${JSON.stringify({ queue })}\n`);
  else if ('error' in queue) process.stdout.write(`\nqueue: not measured (${queue.error})\n`);
  else process.stdout.write(`\n${formatQueueBench(queue).join('\n')}\n`);
}

// --webgpu: the GPU row (bench/webgpu.ts), when a hardware adapter is present (or the software one is
// allowed by VAE_WORKBENCH_WEBGPU_ADAPTER); the table says why not otherwise.
if (flag('webgpu')) {
  const { gpuRows, formatGpuRows } = await import('./webgpu');
  const rows = await gpuRows(steps);
  process.stdout.write(json ? `${JSON.stringify({ gpu: rows })}\n` : `\nwebgpu:\n${formatGpuRows(rows)}\n`);
}
