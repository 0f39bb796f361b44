// The GPU path: tfjs's WebGPU backend on Dawn's Node bindings (the optional `webgpu` npm package),
// which reaches Metal, Vulkan and D3D12, so any GPU works without CUDA. Dawn loads and runs inside the
// worker thread that trains the run (checked: requestAdapter and the tfjs backend work in a
// worker_threads Worker), so the trainer, events and store are the same as on the CPU.
//
// A software adapter (SwiftShader, or any adapter Dawn marks as a fallback) is about a thousand times
// slower than the CPU chain: 'auto' never picks one. Tests and CI force SwiftShader's Vulkan driver with
// VAE_WORKBENCH_WEBGPU_ADAPTER=swiftshader (the driver ships with Debian's chromium package).
import { existsSync } from 'node:fs';

/** What the run records about the GPU it trained on. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** True for a software adapter (SwiftShader, WARP, ...): correct, far slower than the CPU. */
  isFallbackAdapter: boolean;
}

/** Vulkan ICD files of SwiftShader, as Debian's chromium ships it (and other distributions' builds). */
export const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

export const WEBGPU_INSTALL_HINT =
  'install the optional packages with `npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0`';

/** 'hardware' (default: only a real GPU), 'swiftshader' (the software driver, for tests), or 'any'. */
export type AdapterChoice = 'hardware' | 'swiftshader' | 'any';

export function adapterChoice(env: NodeJS.ProcessEnv = process.env): AdapterChoice {
  const value = env.VAE_WORKBENCH_WEBGPU_ADAPTER ?? 'hardware';
  if (value === 'hardware' || value === 'swiftshader' || value === 'any') return value;
  throw new Error(`VAE_WORKBENCH_WEBGPU_ADAPTER must be hardware, swiftshader or any; got '${value}'`);
}

/**
 * Points the Vulkan loader at SwiftShader when VAE_WORKBENCH_WEBGPU_ADAPTER=swiftshader. It must run on
 * the main thread before any worker starts Dawn: a worker's process.env is a copy that native code
 * never sees, while the main thread's assignments reach the C environment the Vulkan loader reads.
 */
export function prepareWebGpuEnvironment(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.VAE_WORKBENCH_WEBGPU_ADAPTER !== 'swiftshader' || env.VK_ICD_FILENAMES) return null;
  const icd = SWIFTSHADER_ICDS.find((path) => existsSync(path));
  if (!icd) return null;
  env.VK_ICD_FILENAMES = icd;
  return icd;
}

export function describeAdapter(info: GpuAdapterInfo): string {
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ');
  return `${info.description || name || 'unknown adapter'}${name && info.description ? ` (${name})` : ''}${
    info.isFallbackAdapter ? ', software' : ''
  }`;
}

interface DawnAdapter {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: Set<string>;
}
interface DawnGpu {
  requestAdapter(options?: { powerPreference?: string }): Promise<DawnAdapter | null>;
}

let gpu: DawnGpu | null = null;

/**
 * Loads Dawn, installs `navigator.gpu` for tfjs in this thread, and returns the adapter tfjs will get,
 * or the reason there is none (what is missing and how to get it).
 */
export async function findAdapter(
  choice: AdapterChoice = adapterChoice(),
): Promise<{ adapter: GpuAdapterInfo } | { failure: string }> {
  if (!gpu) {
    let dawn: { create(flags: string[]): DawnGpu; globals: Record<string, unknown> };
    try {
      const moduleName = 'webgpu';
      dawn = (await import(/* @vite-ignore */ moduleName)) as typeof dawn;
    } catch (error) {
      return { failure: `the webgpu package (Dawn) is not installed: ${WEBGPU_INSTALL_HINT} (${firstLine(error)})` };
    }
    Object.assign(globalThis, dawn.globals);
    // SwiftShader is a Vulkan driver; elsewhere Dawn picks the platform's own backend.
    gpu = dawn.create(choice === 'swiftshader' ? ['backend=vulkan'] : []);
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...(globalThis.navigator ?? {}), gpu },
      configurable: true,
      writable: true,
    });
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    return {
      failure:
        choice === 'swiftshader'
          ? `no WebGPU adapter: SwiftShader's Vulkan driver was not found (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}; ` +
            `on Debian: apt-get install chromium libvulkan1)`
          : "no WebGPU adapter: no GPU driver with Vulkan, Metal or D3D12 was found (on Linux: install the GPU vendor's Vulkan driver and libvulkan1)",
    };
  }
  const info: GpuAdapterInfo = {
    vendor: adapter.info?.vendor ?? '',
    architecture: adapter.info?.architecture ?? '',
    description: adapter.info?.description ?? '',
    isFallbackAdapter: Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
  if (/swiftshader|llvmpipe|lavapipe|warp|basic render/i.test(`${info.architecture} ${info.description}`)) {
    info.isFallbackAdapter = true;
  }
  if (choice === 'hardware' && info.isFallbackAdapter) {
    return {
      failure: `only a software WebGPU adapter is present (${describeAdapter(info)}); it is far slower than the CPU, so it is used only when VAE_WORKBENCH_WEBGPU_ADAPTER=swiftshader or any`,
    };
  }
  return { adapter: info };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
