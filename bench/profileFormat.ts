// The profile's types and its text form, without tfjs (bench.ts imports this; profile.ts measures).

export interface KernelTime {
  name: string;
  calls: number;
  /** Exclusive milliseconds per step. */
  ms: number;
}

export interface GemmShape {
  batch: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Calls per step. */
  count: number;
  /** Best time of one call in the ceiling measurement. */
  bestMs?: number;
  gflops?: number;
}

export interface StepProfile {
  architecture: string;
  backend: string;
  accelerator: string;
  acceleratorDetail?: string;
  batchSize: number;
  steps: number;
  /** The whole step ran as one native pass (accelerate/mlpStep.ts), not as tfjs kernels. */
  fusedStep?: boolean;
  /** Median wall time of a step without the profiler's wrappers. */
  stepMs: number;
  /** Mean wall time of a profiled step (the wrappers add a little). */
  profiledStepMs: number;
  breakdown: {
    /** Inside cblas_sgemm (with the bias copy and fused activation of _FusedMatMul). */
    sgemmMs: number;
    /** Matmul kernels outside the BLAS call (argument marshalling, output allocation). */
    matmulKernelMs: number;
    /** All other kernels (exclusive). */
    otherKernelsMs: number;
    /** Of which inside the addon's native element-wise kernels (Adam, fused chains, binary/unary/sum). */
    nativeElementwiseMs: number;
    /** optimizer.applyGradients (the fused native Adam, or tfjs's own update kernels), included above where kernels. */
    optimizerMs: number;
    /** Uploads into and read backs from the wasm heap (backend.write / readSync). */
    copiesMs: number;
    /** Everything else: tfjs engine, tape, tidy, layers, JS noise generation. */
    outsideKernelsMs: number;
  };
  kernelCallsPerStep: number;
  kernels: KernelTime[];
  gemm: {
    flopsPerStep: number;
    /** Achieved rate inside the sgemm calls. */
    gflopsInSgemm: number;
    /** Step flops / step wall time. */
    gflopsOfStep: number;
    shapes: GemmShape[];
  };
  ceiling: {
    threads: number;
    /** Sum over the step's products of their best times. */
    limitStepMs: number;
    limitSamplesPerSec: number;
    /** Step-shape ceiling rate: flops per step / limitStepMs. */
    gflops: number;
    /** One 1024x1024x1024 product. */
    peakGflops: number;
    /** limitStepMs / stepMs. */
    fractionOfLimit: number;
  } | null;
}

/** The profile as text (bench.ts prints it). */
export function formatProfile(p: StepProfile): string {
  const out: string[] = [];
  const f = (x: number, d = 2) => x.toFixed(d);
  const pct = (x: number) => `${((100 * x) / p.profiledStepMs).toFixed(0)}%`.padStart(5);
  out.push(
    `profile: ${p.architecture} VAE, batch ${p.batchSize}, ${p.backend}+${p.accelerator}; ${p.acceleratorDetail ?? ''}`,
  );
  out.push(
    `  step ${f(p.stepMs)} ms (profiled ${f(p.profiledStepMs)} ms), ${p.kernelCallsPerStep} kernel calls/step${p.fusedStep ? ' (the whole step fused: products and chains called directly, not as kernels)' : ''}`,
  );
  const b = p.breakdown;
  out.push(`  sgemm (inside BLAS)          ${f(b.sgemmMs).padStart(7)} ms ${pct(b.sgemmMs)}`);
  out.push(`  matmul kernels outside BLAS  ${f(b.matmulKernelMs).padStart(7)} ms ${pct(b.matmulKernelMs)}`);
  if (p.fusedStep) {
    out.push(`  other kernels                ${f(b.otherKernelsMs).padStart(7)} ms ${pct(b.otherKernelsMs)}`);
    out.push(
      `  native element-wise, direct  ${f(b.nativeElementwiseMs).padStart(7)} ms ${pct(b.nativeElementwiseMs)}  (the fused chains, column sums and Adam)`,
    );
  } else
    out.push(
      `  other kernels                ${f(b.otherKernelsMs).padStart(7)} ms ${pct(b.otherKernelsMs)}  (native element-wise ${f(b.nativeElementwiseMs)} ms)`,
    );
  out.push(`  of all: optimizer update     ${f(b.optimizerMs).padStart(7)} ms ${pct(b.optimizerMs)}`);
  out.push(`  copies in/out of the heap    ${f(b.copiesMs).padStart(7)} ms ${pct(b.copiesMs)}`);
  out.push(`  outside kernels (engine, JS) ${f(b.outsideKernelsMs).padStart(7)} ms ${pct(b.outsideKernelsMs)}`);
  out.push('  kernels (exclusive ms/step, calls/step):');
  for (const k of p.kernels.slice(0, 24))
    out.push(`    ${k.name.padEnd(24)} ${f(k.ms, 3).padStart(7)}  ${String(k.calls).padStart(5)}`);
  out.push(
    `  gemm: ${(p.gemm.flopsPerStep / 1e9).toFixed(3)} GFLOP/step, ${f(p.gemm.gflopsInSgemm)} GFLOP/s inside sgemm, ${f(p.gemm.gflopsOfStep)} GFLOP/s over the step`,
  );
  for (const s of p.gemm.shapes)
    out.push(
      `    ${`${s.batch}x[${s.m}x${s.k}]${s.transposeA ? 'T' : ''}.[${s.k}x${s.n}]${s.transposeB ? 'T' : ''}`.padEnd(34)} x${s.count}  best ${s.bestMs ?? '-'} ms = ${s.gflops ?? '-'} GFLOP/s`,
    );
  if (p.ceiling)
    out.push(
      `  sgemm limit (${p.ceiling.threads} thread(s)): ${f(p.ceiling.limitStepMs)} ms/step = ${p.ceiling.limitSamplesPerSec} samples/s at ${f(p.ceiling.gflops)} GFLOP/s (1024^3 peak ${f(p.ceiling.peakGflops)} GFLOP/s); the step runs at ${f(p.ceiling.fractionOfLimit, 3)} of the limit`,
    );
  return out.join('\n');
}
