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
import type { SgemmAddon } from './addon';
import { activeMatMulKernels, heapOf, offsetOf } from './kernels';

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
const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

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

// ---- Native conv kernels (with the addon): im2col / col2im in the addon, products by sgemm --------
//
// The wasm backend's own Conv2DBackpropInput is a scalar loop (~230 ms per call at the conv VAE's
// shapes, batch 128) and its Conv2D a single-threaded XNNPACK pass; with the addon, NHWC convolutions
// of dilation 1 become one im2col (native) and one product through the registered matmul kernels:
//   Conv2D / FusedConv2D   y  = cols(x) . W            (bias and activation fused into the product)
//   Conv2DBackpropFilter   dW = cols(x)^T . dy
//   Conv2DBackpropInput    dx = col2im(dy . W^T)       (conv2dTranspose's forward pass too)
// with W the filter [fH, fW, inC, outC] seen as [fH*fW*inC, outC]. Anything else (NCHW, dilation,
// prelu, other dtypes), or when the native matmul kernels are not the active ones, goes to the
// built-in kernel (or, for the filter gradient, the JS im2col above).
type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
  inputShape?: number[];
  filterShape?: number[];
};
const NATIVE_CONV_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;
let convOriginals: Record<string, tf.KernelConfig> | null = null;

function nativeConvInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): ConvInfo | null {
  if (attrs.dataFormat === 'NCHW') return null;
  const dilations = attrs.dilations ?? 1;
  if (!(dilations === 1 || (Array.isArray(dilations) && dilations.every((d) => d === 1)))) return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  return info.inChannels === filterShape[2] ? info : null;
}

function im2colNative(
  addon: SgemmAddon,
  backend: BackendWasm,
  op: 0 | 1,
  x: TensorInfo,
  cols: TensorInfo,
  info: ConvInfo,
): void {
  const heap = heapOf(backend);
  addon.conv!(
    heap,
    op,
    offsetOf(backend, x),
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
    offsetOf(backend, cols),
  );
}

function nativeConvKernels(addon: SgemmAddon, original: Record<string, tf.KernelConfig>): Record<string, KernelFn> {
  const builtin = (name: string) => original[name]?.kernelFunc as unknown as KernelFn | undefined;
  const matMul = (args: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo }, backend: BackendWasm, attrs: object) =>
    (tf.getKernel('_FusedMatMul', BACKEND).kernelFunc as unknown as KernelFn)({
      inputs: args as Record<string, TensorInfo>,
      backend,
      attrs: { transposeA: false, transposeB: false, activation: 'linear', ...attrs },
    });
  const ready = (...ts: (TensorInfo | undefined)[]) =>
    activeMatMulKernels() === 'native-sgemm' && ts.every((t) => !t || t.dtype === 'float32');
  const forward =
    (name: 'Conv2D' | 'FusedConv2D'): KernelFn =>
    (args) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs;
      const attrs = args.attrs as ConvAttrs;
      const activation = attrs.activation ?? 'linear';
      const info =
        x && filter && ready(x, filter, bias) && !preluActivationWeights && activation !== 'prelu'
          ? nativeConvInfo(x.shape, filter.shape, attrs)
          : null;
      // A bias must be one value per output channel to be fused into the product.
      if (!info || !x || !filter || (bias && sizeOf(bias.shape) !== info.outChannels)) return builtin(name)!(args);
      const { backend } = args;
      const k = info.filterHeight * info.filterWidth * info.inChannels;
      const p = info.batchSize * info.outHeight * info.outWidth;
      const cols = backend.makeOutput([p, k], 'float32');
      im2colNative(addon, backend, 0, x, cols, info);
      const w = { dataId: filter.dataId, shape: [k, info.outChannels], dtype: 'float32' as const };
      const biasVector = bias
        ? { dataId: bias.dataId, shape: [info.outChannels], dtype: 'float32' as const }
        : undefined;
      const out = matMul({ a: cols, b: w, ...(biasVector ? { bias: biasVector } : {}) }, backend, {
        activation,
        leakyreluAlpha: attrs.leakyreluAlpha,
      });
      backend.disposeData(cols.dataId);
      return {
        dataId: out.dataId,
        shape: [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
        dtype: 'float32',
      };
    };
  return {
    Conv2D: forward('Conv2D'),
    FusedConv2D: forward('FusedConv2D'),
    Conv2DBackpropInput(args) {
      const { dy, filter } = args.inputs;
      const attrs = args.attrs as ConvAttrs;
      const info =
        dy && filter && ready(dy, filter) && attrs.inputShape
          ? nativeConvInfo(attrs.inputShape, filter.shape, attrs)
          : null;
      if (
        !info ||
        !dy ||
        !filter ||
        dy.shape.some((d, i) => d !== [info.batchSize, info.outHeight, info.outWidth, info.outChannels][i])
      )
        return builtin('Conv2DBackpropInput')!(args);
      const { backend } = args;
      const k = info.filterHeight * info.filterWidth * info.inChannels;
      const p = info.batchSize * info.outHeight * info.outWidth;
      const dy2 = { dataId: dy.dataId, shape: [p, info.outChannels], dtype: 'float32' as const };
      const w = { dataId: filter.dataId, shape: [k, info.outChannels], dtype: 'float32' as const };
      const dcols = matMul({ a: dy2, b: w }, backend, { transposeB: true });
      const dx = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, info.inChannels], 'float32');
      im2colNative(addon, backend, 1, dx, dcols, info);
      backend.disposeData(dcols.dataId);
      return dx;
    },
    Conv2DBackpropFilter(args) {
      const { x, dy } = args.inputs;
      const attrs = args.attrs as ConvAttrs;
      const info =
        x && dy && ready(x, dy) && attrs.filterShape ? nativeConvInfo(x.shape, attrs.filterShape, attrs) : null;
      if (
        !info ||
        !x ||
        !dy ||
        dy.shape.some((d, i) => d !== [info.batchSize, info.outHeight, info.outWidth, info.outChannels][i])
      )
        return conv2DBackpropFilterWasm(args);
      const { backend } = args;
      const k = info.filterHeight * info.filterWidth * info.inChannels;
      const p = info.batchSize * info.outHeight * info.outWidth;
      const cols = backend.makeOutput([p, k], 'float32');
      im2colNative(addon, backend, 0, x, cols, info);
      const dy2 = { dataId: dy.dataId, shape: [p, info.outChannels], dtype: 'float32' as const };
      const dw = matMul({ a: cols, b: dy2 }, backend, { transposeA: true });
      backend.disposeData(cols.dataId);
      return { dataId: dw.dataId, shape: attrs.filterShape!, dtype: 'float32' };
    },
  };
}

/**
 * Registers the native conv kernels for this thread's wasm backend (after installConvKernels; the
 * built-in ones stay the fallback). Addon builds without `conv` change nothing.
 */
export function installNativeConvKernels(addon: SgemmAddon): boolean {
  if (typeof addon.conv !== 'function') return false;
  if (!convOriginals) {
    const found: Record<string, tf.KernelConfig> = {};
    for (const name of NATIVE_CONV_KERNELS) {
      const config = tf.getKernel(name, BACKEND);
      if (config) found[name] = config;
    }
    convOriginals = found;
  }
  const kernels = nativeConvKernels(addon, convOriginals);
  for (const name of NATIVE_CONV_KERNELS) {
    const previous = convOriginals[name];
    if (!previous && name !== 'Conv2DBackpropFilter') continue;
    if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({
      kernelName: name,
      backendName: BACKEND,
      kernelFunc: kernels[name] as unknown as tf.KernelFunc,
      ...(previous?.setupFunc ? { setupFunc: previous.setupFunc } : {}),
      ...(previous?.disposeFunc ? { disposeFunc: previous.disposeFunc } : {}),
    });
  }
  return true;
}
