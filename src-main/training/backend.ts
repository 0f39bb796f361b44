// Picks the tfjs backend for this thread: tfjs-node when installed and loadable, else wasm, else
// cpu. The preference 'auto' walks that chain; a named backend is used or refused with a reason.
import * as tf from '@tensorflow/tfjs';
import type { BACKEND_PREFERENCES } from '../api/config';

export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** Why earlier choices in the chain were skipped, for the run's record. */
  skipped: string[];
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

async function tryWasm(threads?: number): Promise<string | null> {
  try {
    if (!wasmRegistered) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (threads !== undefined) wasm.setThreadsCount(threads);
      wasmRegistered = true;
    }
    const ok = await tf.setBackend('wasm');
    return ok ? null : 'wasm backend failed to initialize';
  } catch (error) {
    return `wasm unavailable: ${(error as Error).message.split('\n')[0]}`;
  }
}

/** Initializes the backend for this thread. Throws when a named backend cannot be had. */
export async function initBackend(preference: BackendPreference = 'auto', options: { threads?: number } = {}): Promise<BackendInfo> {
  const skipped: string[] = [];
  const chain: BackendName[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  for (const name of chain) {
    let failure: string | null;
    if (name === 'tensorflow') failure = await tryTensorflow();
    else if (name === 'wasm') failure = await tryWasm(options.threads);
    else failure = (await tf.setBackend('cpu')) ? null : 'cpu backend failed to initialize';
    if (failure === null) {
      await tf.ready();
      return { name, skipped };
    }
    skipped.push(failure);
  }
  throw new Error(`Backend '${preference}' is not available here: ${skipped.join('; ')}`);
}
