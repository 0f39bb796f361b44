// Whether this machine has a software WebGPU adapter for the tests: SwiftShader's Vulkan driver
// (Debian's chromium ships it), the Vulkan loader (libvulkan1) and the optional npm packages.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SWIFTSHADER_ICDS } from '../../src-main/training/webgpu';
import { requirement, type Requirement } from './requirements';

const require = createRequire(import.meta.url);

function hasPackage(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

export const SWIFTSHADER_ICD = SWIFTSHADER_ICDS.find((path) => existsSync(path));

const LIBVULKAN = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
].some((path) => existsSync(path));

/** The environment a process needs to train on SwiftShader. */
export const SWIFTSHADER_ENV: Record<string, string> = SWIFTSHADER_ICD
  ? { VAE_WORKBENCH_WEBGPU_ADAPTER: 'swiftshader', VK_ICD_FILENAMES: SWIFTSHADER_ICD }
  : {};

export function swiftshaderRequirement(file: string): Requirement {
  return requirement(
    file,
    Boolean(SWIFTSHADER_ICD) && LIBVULKAN && hasPackage('webgpu') && hasPackage('@tensorflow/tfjs-backend-webgpu'),
    "no software WebGPU adapter: SwiftShader's Vulkan driver comes with Debian's chromium, the loader with " +
      'libvulkan1 (apt-get install chromium libvulkan1), Dawn with the optional npm package webgpu',
  );
}
