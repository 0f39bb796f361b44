// Conv2DBackpropFilter for the tfjs wasm backend, which 4.22 lacks (so conv models could not train
// there: the filter gradients of conv2d and of conv2dTranspose both need it).
//
// channelsLast (NHWC, what tf.layers uses): dW[wR, wC, d1, d2] = Σ_{b, yR, yC} x[b, xR, xC, d1] ·
// dy[b, yR, yC, d2] is one matrix product. A JS loop writes the transposed im2col matrix
// colsT [fH·fW·inC, B·outH·outW] into the wasm heap (zeros where the window hangs over the
// padding), and the BatchMatMul kernel registered for wasm at that moment (XNNPACK, or the native
// sgemm of kernels.ts) multiplies colsT · dy[B·outH·outW, outC] with no transposes; the result's
// layout is already the filter's [fH, fW, inC, outC]. Large batches are split so colsT stays under
// COLS_LIMIT floats; the partial products are summed in place.
// channelsFirst (NCHW): a direct JS loop (float64 accumulation), as the cpu backend does it.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type KernelArgs = {
  inputs: Record<string, TensorInfo | undefined>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
};
type KernelFn = (args: KernelArgs) => TensorInfo;

const BACKEND = 'wasm';
const KERNEL = 'Conv2DBackpropFilter';
/** Most floats in one im2col block (32 MB); bigger batches are done in slices of the batch. */
const COLS_LIMIT = 8 * 1024 * 1024;

const heapF32 = (backend: BackendWasm): Float32Array => (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
const offsetOf = (backend: BackendWasm, t: TensorInfo): number => backend.dataIdMap.get(t.dataId).memoryOffset;

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/**
 * Writes colsT[k, p] for k = (wR, wC, d1), p = (b - b0, yR, yC) over the batches b0 .. b0 + nb - 1,
 * x in NHWC; rows are written contiguously.
 */
function im2colT(heap: Float32Array, xAt: number, colsAt: number, info: ConvInfo, b0: number, nb: number): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } =
    info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowX = inWidth * inChannels;
  const imageX = inHeight * rowX;
  let o = colsAt;
  for (let wR = 0; wR < filterHeight; wR++) {
    for (let wC = 0; wC < filterWidth; wC++) {
      // yC in [yC0, yC1) reads inside the image; the rest of the row is padding.
      const yC0 = Math.min(outWidth, Math.max(0, Math.ceil((left - wC) / strideWidth)));
      const yC1 = Math.max(yC0, Math.min(outWidth, Math.ceil((inWidth + left - wC) / strideWidth)));
      for (let d1 = 0; d1 < inChannels; d1++) {
        for (let b = b0; b < b0 + nb; b++) {
          const image = xAt + b * imageX + d1;
          for (let yR = 0; yR < outHeight; yR++) {
            const xR = yR * strideHeight + wR - top;
            if (xR < 0 || xR >= inHeight) {
              heap.fill(0, o, o + outWidth);
              o += outWidth;
              continue;
            }
            let yC = 0;
            for (; yC < yC0; yC++) heap[o++] = 0;
            let from = image + xR * rowX + (yC0 * strideWidth + wC - left) * inChannels;
            const step = strideWidth * inChannels;
            for (; yC < yC1; yC++, from += step) heap[o++] = heap[from];
            for (; yC < outWidth; yC++) heap[o++] = 0;
          }
        }
      }
    }
  }
}

function channelsLast(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: ConvInfo,
  filterShape: number[],
): TensorInfo {
  const matMul = tf.getKernel('BatchMatMul', BACKEND).kernelFunc as unknown as KernelFn;
  const { batchSize, outHeight, outWidth, outChannels, filterHeight, filterWidth, inChannels } = info;
  const k = filterHeight * filterWidth * inChannels;
  const perImage = outHeight * outWidth;
  const chunk = Math.max(1, Math.min(batchSize, Math.floor(COLS_LIMIT / Math.max(1, k * perImage))));
  let result: TensorInfo | null = null;
  for (let b0 = 0; b0 < batchSize; b0 += chunk) {
    const nb = Math.min(chunk, batchSize - b0);
    const p = nb * perImage;
    const cols = backend.makeOutput([1, k, p], 'float32');
    const whole = nb === batchSize;
    const dySlice = whole ? null : backend.makeOutput([1, p, outChannels], 'float32');
    // After the allocations: they may have grown (replaced) the heap.
    let heap = heapF32(backend);
    im2colT(heap, offsetOf(backend, x) >> 2, offsetOf(backend, cols) >> 2, info, b0, nb);
    if (dySlice) {
      const from = (offsetOf(backend, dy) >> 2) + b0 * perImage * outChannels;
      heap.copyWithin(offsetOf(backend, dySlice) >> 2, from, from + p * outChannels);
    }
    const b: TensorInfo = dySlice ?? { dataId: dy.dataId, shape: [1, p, outChannels], dtype: 'float32' };
    const partial = matMul({ inputs: { a: cols, b }, backend, attrs: { transposeA: false, transposeB: false } });
    backend.disposeData(cols.dataId);
    if (dySlice) backend.disposeData(dySlice.dataId);
    if (result === null) {
      result = partial;
      continue;
    }
    heap = heapF32(backend);
    const to = offsetOf(backend, result) >> 2;
    const add = offsetOf(backend, partial) >> 2;
    for (let i = 0, n = k * outChannels; i < n; i++) heap[to + i] += heap[add + i];
    backend.disposeData(partial.dataId);
  }
  // [1, K, outC] is laid out as [fH, fW, inC, outC].
  return { dataId: result!.dataId, shape: filterShape, dtype: 'float32' };
}

function channelsFirst(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: ConvInfo,
  filterShape: number[],
): TensorInfo {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput(filterShape, 'float32');
  const heap = heapF32(backend);
  const xAt = offsetOf(backend, x) >> 2;
  const dyAt = offsetOf(backend, dy) >> 2;
  const outAt = offsetOf(backend, out) >> 2;
  for (let wR = 0; wR < filterHeight; wR++) {
    const yR0 = Math.max(0, Math.ceil((top - wR) / strideHeight));
    const yR1 = Math.min(outHeight, Math.ceil((inHeight + top - wR) / strideHeight));
    for (let wC = 0; wC < filterWidth; wC++) {
      const yC0 = Math.max(0, Math.ceil((left - wC) / strideWidth));
      const yC1 = Math.min(outWidth, Math.ceil((inWidth + left - wC) / strideWidth));
      for (let d1 = 0; d1 < inChannels; d1++) {
        for (let d2 = 0; d2 < outChannels; d2++) {
          let sum = 0;
          for (let b = 0; b < batchSize; b++) {
            const xPlane = xAt + (b * inChannels + d1) * inHeight * inWidth;
            const dyPlane = dyAt + (b * outChannels + d2) * outHeight * outWidth;
            for (let yR = yR0; yR < yR1; yR++) {
              const xRow = xPlane + (yR * strideHeight + wR - top) * inWidth + wC - left;
              const dyRow = dyPlane + yR * outWidth;
              for (let yC = yC0; yC < yC1; yC++) sum += heap[xRow + yC * strideWidth] * heap[dyRow + yC];
            }
          }
          heap[outAt + ((wR * filterWidth + wC) * inChannels + d1) * outChannels + d2] = sum;
        }
      }
    }
  }
  return out;
}

/** The kernel: attrs as tfjs-core's conv2DBackpropFilter passes them (filterShape is [fH, fW, inC, outC]). */
export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { backend, attrs } = args;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32')
    throw new Error(`${KERNEL} on wasm supports float32 only, got ${x.dtype} and ${dy.dtype}`);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat as 'NHWC' | 'NCHW');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    dataFormat,
  );
  const expected =
    dataFormat === 'channelsLast'
      ? [info.batchSize, info.outHeight, info.outWidth, info.outChannels]
      : [info.batchSize, info.outChannels, info.outHeight, info.outWidth];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new Error(
      `${KERNEL}: dy has shape [${dy.shape}], expected [${expected}] for x [${x.shape}] and filter [${filterShape}]`,
    );
  }
  return dataFormat === 'channelsLast'
    ? channelsLast(backend, x, dy, info, filterShape)
    : channelsFirst(backend, x, dy, info, filterShape);
}

/**
 * Registers Conv2DBackpropFilter for the wasm backend of this thread (replacing any registered
 * before). Call after importing @tensorflow/tfjs-backend-wasm; before or after it initializes.
 */
export function installConvKernels(): void {
  if (tf.getKernel(KERNEL, BACKEND)) tf.unregisterKernel(KERNEL, BACKEND);
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: BACKEND,
    kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
  });
}
