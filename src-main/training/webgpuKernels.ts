// Kernel fixes for tfjs-backend-webgpu 4.22, installed once the backend is registered.
import * as tf from '@tensorflow/tfjs';

let installed = false;

/**
 * AddN with more inputs than the device has storage buffers per shader stage fails to compile
 * ("Invalid ComputePipeline AddNPackedProgram"; SwiftShader allows 8) and every later step is then
 * garbage. tfjs's own Concat splits its inputs for the same limit; AddN does not, so it is wrapped here
 * to sum at most (limit - 1) inputs at a time, the running sum being one of them.
 */
export function installWebGpuKernelFixes(): void {
  if (installed) return;
  const original = tf.getKernel('AddN', 'webgpu');
  if (!original) return;
  installed = true;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const tensors = inputs as unknown as tf.TensorInfo[];
      const limits = (backend as unknown as { device: { limits: { maxStorageBuffersPerShaderStage: number } } }).device
        .limits;
      const maxInputs = Math.max(2, limits.maxStorageBuffersPerShaderStage - 1);
      if (tensors.length <= maxInputs) return original.kernelFunc({ inputs, backend, attrs });
      const dispose = (info: tf.TensorInfo) => (backend as unknown as tf.KernelBackend).disposeData(info.dataId);
      let sum = original.kernelFunc({ inputs: tensors.slice(0, maxInputs) as never, backend, attrs }) as tf.TensorInfo;
      for (let i = maxInputs; i < tensors.length; i += maxInputs - 1) {
        const next = original.kernelFunc({
          inputs: [sum, ...tensors.slice(i, i + maxInputs - 1)] as never,
          backend,
          attrs,
        }) as tf.TensorInfo;
        dispose(sum);
        sum = next;
      }
      return sum;
    },
  });
}
