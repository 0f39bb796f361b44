// Picks the tfjs backend for this thread: WebGPU on a hardware adapter when a short calibration of the
// run's own step shows it faster (trainer.ts, calibrate.ts), then tfjs-node when installed and loadable, else wasm with the
// native sgemm kernels (optional addon, see accelerate/), else plain wasm (with the transposed-
// product fast path), else cpu. The preference 'auto' walks that chain; a named backend is used or
// refused with a reason. The wasm matmul kernels can be forced with the `accelerator` option or
// the VAE_WORKBENCH_ACCELERATOR environment variable ('native-sgemm' | 'wasm-transpose-fast-path' | 'none').
import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import type { BACKEND_PREFERENCES } from '../api/config';
import { chooseAccelerator, type Accelerator } from './accelerate';
import { installConvKernels } from './accelerate/conv';
import { installWebGpuKernelFixes } from './webgpuKernels';
import { adapterChoice, describeAdapter, findAdapter, WEBGPU_INSTALL_HINT, type GpuAdapterInfo } from './webgpu';

export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
export type BackendName = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** Why earlier choices in the chain were skipped, for the run's record. */
  skipped: string[];
  /** The matmul kernels in use: only the wasm backend has a choice; 'none' elsewhere. */
  accelerator: Accelerator;
  /** What the accelerator runs on, e.g. "OpenBLAS 0.3.21 ... ; 2 BLAS thread(s) of 2 cores". */
  acceleratorDetail?: string;
  /** The GPU a webgpu run trains on. */
  adapter?: GpuAdapterInfo;
  /** 'auto' found a hardware adapter: the trainer times the run's step on it and on the CPU chain first. */
  calibrate?: boolean;
  /** The native BLAS kernel family (e.g. "SkylakeX"): part of the run's backend string. */
  blasCore?: string;
  /** BLAS threads per product when the run started. */
  blasThreads?: number;
}

export interface BackendOptions {
  /** Threads this run may use (wasm threads and BLAS threads); default: the BLAS policy (blasThreadsPolicy). */
  threads?: number;
  /** Which wasm matmul kernels to use; default 'auto' (native sgemm when built, else the fast path). */
  accelerator?: Accelerator | 'auto';
  /** Leave WebGPU out of the 'auto' chain (the calibration's CPU leg). */
  skipWebgpu?: boolean;
}

const ACCELERATORS = ['auto', 'native-sgemm', 'wasm-transpose-fast-path', 'none'] as const;

function acceleratorPreference(options: BackendOptions): Accelerator | 'auto' {
  if (options.accelerator) return options.accelerator;
  const fromEnv = process.env.VAE_WORKBENCH_ACCELERATOR;
  if (!fromEnv) return 'auto';
  if (!(ACCELERATORS as readonly string[]).includes(fromEnv)) {
    throw new Error(`VAE_WORKBENCH_ACCELERATOR must be one of ${ACCELERATORS.join(', ')}; got '${fromEnv}'`);
  }
  return fromEnv as Accelerator | 'auto';
}

/**
 * BLAS threads per product. VAE_WORKBENCH_BLAS_THREADS=n pins n (OpenBLAS's last bits depend on
 * the thread count, so a pinned count gives bit-identical replays whatever else runs). Unset (or
 * 'share'): the fair share of the cores among the runs of this process that use the native kernel,
 * re-evaluated before every product (native/src/sgemm.cc DesiredThreads): a run alone uses every
 * core, two runs on two cores one each, never more threads than cores between them. (OpenBLAS has
 * one thread count per process, so runs in one process cannot be given different counts.)
 * Returns n, or 0 for the fair share.
 */
export function blasThreadsPolicy(): number {
  const raw = process.env.VAE_WORKBENCH_BLAS_THREADS;
  if (raw === undefined || raw === '' || raw === 'share') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`VAE_WORKBENCH_BLAS_THREADS must be a positive integer or 'share'; got '${raw}'`);
  return n;
}

let wasmRegistered = false;

async function tryTensorflow(): Promise<string | null> {
  try {
    // Optional dependency: absent on machines where libtensorflow could not be downloaded.
    // tfjs-node also fails to load in a second worker thread (tensorflow/tfjs#8388); that throws here.
    const moduleName = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ moduleName);
    const ok = await tf.setBackend('tensorflow');
    return ok ? null : 'tfjs-node loaded but its backend failed to initialize';
  } catch (error) {
    return `tfjs-node unavailable: ${(error as Error).message.split('\n')[0]}`;
  }
}

async function tryWebgpu(auto: boolean): Promise<{ failure: string | null; adapter?: GpuAdapterInfo }> {
  // 'auto' never takes a software adapter; a forced webgpu takes what VAE_WORKBENCH_WEBGPU_ADAPTER allows.
  const choice = auto ? 'hardware' : adapterChoice();
  if (auto && !hardwareGpuLikely())
    return { failure: 'webgpu skipped: no GPU driver found (no Vulkan ICD but software ones)' };
  const found = await findAdapter(choice);
  if ('failure' in found) return { failure: `webgpu unavailable: ${found.failure}` };
  try {
    const moduleName = '@tensorflow/tfjs-backend-webgpu';
    await import(/* @vite-ignore */ moduleName);
  } catch (error) {
    return {
      failure: `webgpu unavailable: @tensorflow/tfjs-backend-webgpu is not installed: ${WEBGPU_INSTALL_HINT} (${(error as Error).message.split('\n')[0]})`,
    };
  }
  installWebGpuKernelFixes();
  const ok = await tf.setBackend('webgpu');
  if (!ok)
    return {
      failure: `webgpu unavailable: tfjs's webgpu backend failed to initialize on ${describeAdapter(found.adapter)}`,
    };
  return { failure: null, adapter: found.adapter };
}

/**
 * Whether this machine may have a GPU driver Dawn can use, checked without loading Dawn (which logs
 * a warning for every missing library): Metal and D3D12 are always there; on Linux a Vulkan ICD that is
 * not a software rasterizer (lavapipe, SwiftShader) must be installed.
 */
function hardwareGpuLikely(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    if (names.some((name) => name.endsWith('.json') && !/lvp|lavapipe|swiftshader/i.test(name))) return true;
  }
  return false;
}

interface WasmResult {
  failure: string | null;
  accelerator: Accelerator;
  detail?: string;
  core?: string;
  threads?: number;
  notes: string[];
}

async function tryWasm(options: BackendOptions): Promise<WasmResult> {
  const notes: string[] = [];
  try {
    if (!wasmRegistered) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (options.threads !== undefined) wasm.setThreadsCount(options.threads);
      wasmRegistered = true;
    }
    // Kernels are registered before the backend initializes; the built-in setup still runs.
    // Conv2DBackpropFilter (missing from tfjs-backend-wasm 4.22) goes in with every accelerator.
    installConvKernels();
    const choice = chooseAccelerator(acceleratorPreference(options), options.threads ?? blasThreadsPolicy());
    notes.push(...choice.notes);
    const ok = await tf.setBackend('wasm');
    if (!ok) return { failure: 'wasm backend failed to initialize', accelerator: 'none', notes };
    return {
      failure: null,
      accelerator: choice.accelerator,
      detail: choice.detail ?? undefined,
      ...(choice.core ? { core: choice.core } : {}),
      ...(choice.threads ? { threads: choice.threads } : {}),
      notes,
    };
  } catch (error) {
    return { failure: `wasm unavailable: ${(error as Error).message.split('\n')[0]}`, accelerator: 'none', notes };
  }
}

/** Initializes the backend for this thread. Throws when a named backend cannot be had. */
export async function initBackend(
  preference: BackendPreference = 'auto',
  options: BackendOptions = {},
): Promise<BackendInfo> {
  const skipped: string[] = [];
  const cpuChain: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
  const chain: BackendName[] =
    preference === 'auto' ? (options.skipWebgpu ? cpuChain : ['webgpu', ...cpuChain]) : [preference];
  for (const name of chain) {
    let failure: string | null;
    let accelerator: Accelerator = 'none';
    let acceleratorDetail: string | undefined;
    let blas: { blasCore?: string; blasThreads?: number } = {};
    if (name === 'webgpu') {
      const result = await tryWebgpu(preference === 'auto');
      if (result.failure === null && result.adapter) {
        await tf.ready();
        return { name, skipped, accelerator, adapter: result.adapter, calibrate: preference === 'auto' };
      }
      failure = result.failure;
    } else if (name === 'tensorflow') failure = await tryTensorflow();
    else if (name === 'wasm') {
      const result = await tryWasm(options);
      failure = result.failure;
      // A missing native kernel is recorded like a skipped backend: the run's notes say why.
      skipped.push(...result.notes);
      accelerator = result.accelerator;
      acceleratorDetail = result.detail;
      blas = {
        ...(result.core ? { blasCore: result.core } : {}),
        ...(result.threads ? { blasThreads: result.threads } : {}),
      };
    } else failure = (await tf.setBackend('cpu')) ? null : 'cpu backend failed to initialize';
    if (failure === null) {
      await tf.ready();
      return { name, skipped, accelerator, ...(acceleratorDetail ? { acceleratorDetail } : {}), ...blas };
    }
    skipped.push(failure);
  }
  throw new Error(`Backend '${preference}' is not available here: ${skipped.join('; ')}`);
}
