// The GPU row of the benchmark: the product's 784-512-32 MLP VAE step (the trainer's own
// trainStepAsync, batch 128, Adam) on tfjs's webgpu backend, beside PyTorch on the CPU and, where
// PyTorch was built with CUDA, PyTorch on the GPU, in the same run. One table on stdout (or JSON with
// --json). `npm run bench -- --webgpu` adds it to the bench; `bench/gpu-check.sh` runs it alone on a
// machine with a GPU. A software adapter is measured only when VAE_WORKBENCH_WEBGPU_ADAPTER allows it
// (it is ~1000x slower: a check that the path works, not a speed).
//
//   node --import tsx bench/webgpu.ts [--steps N] [--json]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ModelConfigSchema } from '../src-main/api/config';
import { createModel } from '../src-main/models';
import type { LossOptions } from '../src-main/models/types';
import { createAdam } from '../src-main/training/accelerate';
import { initBackend } from '../src-main/training/backend';
import { trainStepAsync } from '../src-main/training/step';
import { describeAdapter, prepareWebGpuEnvironment } from '../src-main/training/webgpu';

const here = import.meta.dirname;

export interface GpuRow {
  label: string;
  samplesPerSec: number | null;
  note: string;
}

/** Samples/s of the product's step on webgpu, or the reason it cannot run here. */
export async function webgpuSamplesPerSec(steps: number, warmup = 3, batch = 128): Promise<GpuRow> {
  prepareWebGpuEnvironment();
  let info;
  try {
    info = await initBackend('webgpu');
  } catch (error) {
    return { label: 'tfjs webgpu', samplesPerSec: null, note: (error as Error).message };
  }
  const config = ModelConfigSchema.parse({ hidden: [512], latentDim: 32 });
  const model = createModel(config, [28, 28, 1], 7);
  const optimizer = createAdam(1e-3);
  const pixels = new Float32Array(batch * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) % 100 < 13 ? 1 : 0;
  const options: LossOptions = { klWeight: 1, freeBits: 0, capacity: null, objective: 'elbo', samples: 1, seed: 0 };
  const times: number[] = [];
  try {
    for (let step = 0; step < warmup + steps; step++) {
      const started = performance.now();
      await trainStepAsync(model, optimizer, model.trainableVariables(), pixels, batch, { ...options, seed: step });
      if (step >= warmup) times.push(performance.now() - started);
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  return {
    label: 'tfjs webgpu',
    samplesPerSec: (batch * 1000) / median,
    note: info.adapter ? describeAdapter(info.adapter) : 'webgpu',
  };
}

function torchPython(): string | null {
  for (const python of ['python3', '/usr/bin/python3', 'python']) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

/** PyTorch on `device` through bench/torch_vae.py, or why not. */
export function torchSamplesPerSec(device: 'cpu' | 'cuda', steps: number): GpuRow {
  const label = `pytorch ${device}`;
  const python = torchPython();
  if (!python) return { label, samplesPerSec: null, note: 'no python3 with torch found' };
  if (device === 'cuda') {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' });
    if (probe.stdout.trim() !== 'True') return { label, samplesPerSec: null, note: 'PyTorch has no CUDA here' };
  }
  const result = spawnSync(python, [join(here, 'torch_vae.py'), '--steps', String(steps), '--device', device], {
    encoding: 'utf8',
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    return { label, samplesPerSec: null, note: (result.stderr.trim().split('\n').pop() ?? 'failed').slice(0, 160) };
  }
  const parsed = JSON.parse(line) as { samplesPerSec: number; torch: string; threads: number };
  return { label, samplesPerSec: parsed.samplesPerSec, note: `torch ${parsed.torch}, ${parsed.threads} thread(s)` };
}

export async function gpuRows(steps: number): Promise<GpuRow[]> {
  const gpu = await webgpuSamplesPerSec(steps);
  return [gpu, torchSamplesPerSec('cpu', steps), torchSamplesPerSec('cuda', steps)];
}

export function formatGpuRows(rows: GpuRow[]): string {
  const cpu = rows.find((r) => r.label === 'pytorch cpu')?.samplesPerSec ?? null;
  const cuda = rows.find((r) => r.label === 'pytorch cuda')?.samplesPerSec ?? null;
  const lines = ['backend                 samples/s   vs torch cpu   vs torch cuda   note'];
  for (const row of rows) {
    const sps = row.samplesPerSec;
    const ratio = (base: number | null) => (sps !== null && base ? `${(sps / base).toFixed(2)}x` : '-');
    lines.push(
      `${row.label.padEnd(22)}  ${(sps === null ? '-' : Math.round(sps).toLocaleString('en-US')).padStart(9)}   ${ratio(cpu).padStart(12)}   ${ratio(cuda).padStart(13)}   ${row.note}`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const args = process.argv.slice(2);
  const stepsAt = args.indexOf('--steps');
  const steps = stepsAt >= 0 ? Number(args[stepsAt + 1]) : 30;
  const rows = await gpuRows(steps);
  console.log(args.includes('--json') ? JSON.stringify({ gpu: rows }) : formatGpuRows(rows));
  process.exit(0);
}
