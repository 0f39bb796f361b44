// The OpenBLAS kernel family for this processor, chosen before the library initializes.
//
// OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernels once, when it is loaded, from the
// CPU model; a processor newer than the release (0.3.21 and Intel family 6 model 207, for one) gets
// a fallback core such as Prescott (SSE3 kernels, ~1.7x slower sgemm on an AVX-512 machine). The
// choice cannot be changed after loading, and OPENBLAS_CORETYPE is read from the C environment at
// that moment, so it has to be set in the process environment before the first load in the
// process: prepareBlasCore() runs in the main thread (loadSgemmAddon calls it there; the training
// pool calls it before it starts workers, whose process.env is a copy that OpenBLAS never sees).
//
// It asks a child process which core OpenBLAS picks by itself; when that is a fallback core on a
// CPU with AVX-512 (or AVX2), it asks a second child to load OpenBLAS with OPENBLAS_CORETYPE set to
// SkylakeX (or Haswell) and multiply a few matrices of the training step's shapes against a
// double-precision reference; the core is kept only if OpenBLAS accepted it and every product is
// within 1e-5 relative. A user's OPENBLAS_CORETYPE is always left alone, and
// VAE_WORKBENCH_BLAS_CORETYPE=off turns the choice off. The outcome is recorded in the environment
// (VAE_WORKBENCH_BLAS_CORE_CHOICE), so worker threads and child processes do not ask again.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { switchedOff } from '../../api/envSwitch';

/** OpenBLAS cores older than AVX2: what it falls back to for processors it does not know. */
export const FALLBACK_CORES = ['Prescott', 'Core2', 'Penryn', 'Dunnington', 'Nehalem', 'Atom', 'Banias', 'Northwood'];
const CHOICE_ENV = 'VAE_WORKBENCH_BLAS_CORE_CHOICE';
const SWITCH_ENV = 'VAE_WORKBENCH_BLAS_CORETYPE';

export interface BlasCoreChoice {
  /** The OPENBLAS_CORETYPE this process set, or null (left to OpenBLAS or to the user). */
  chosen: string | null;
  /** What happened, for the run's backend detail. */
  reason: string;
}

/** The core type to ask for, given the core OpenBLAS picked by itself and the CPU's flags; null: keep it. */
export function coreTypeFor(reported: string, flags: Set<string>): string | null {
  if (!FALLBACK_CORES.some((core) => core.toLowerCase() === reported.toLowerCase())) return null;
  const avx512 = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.has(f));
  if (avx512) return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return null;
}

/** The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere). */
export function cpuFlags(text?: string): Set<string> {
  let cpuinfo = text;
  if (cpuinfo === undefined) {
    try {
      cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return new Set();
    }
  }
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  return new Set(
    line
      ? line
          .replace(/^flags\s*:/, '')
          .trim()
          .split(/\s+/)
      : [],
  );
}

// The child's script: load the addon, report the core, and (when asked) check products against a
// double-precision reference at the step's shapes (plain and both transposes, with a bias).
const PROBE = `
const { addon } = require(process.argv[1]);
if (!addon) { console.log(JSON.stringify({ core: null })); process.exit(0); }
const core = addon.coreName ? addon.coreName() : '';
let worst = 0;
if (process.argv[2] === 'check') {
  const cases = [[128, 512, 784, 0, 0], [128, 784, 512, 0, 1], [512, 784, 128, 1, 0], [37, 29, 53, 1, 1], [128, 64, 512, 0, 0]];
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  for (const [m, n, k, ta, tb] of cases) {
    const heap = new ArrayBuffer((m * k + k * n + n + m * n) * 4);
    const f = new Float32Array(heap);
    const A = 0, B = m * k, BIAS = B + k * n, C = BIAS + n;
    for (let i = 0; i < C; i++) f[i] = rand();
    addon.gemm(heap, A * 4, B * 4, C * 4, 1, 1, 1, m, n, k, ta, tb, BIAS * 4, n, 0, 0);
    let diff = 0, scale = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let ref = f[BIAS + j];
      for (let p = 0; p < k; p++) ref += f[A + (ta ? p * m + i : i * k + p)] * f[B + (tb ? j * k + p : p * n + j)];
      diff = Math.max(diff, Math.abs(f[C + i * n + j] - ref));
      scale = Math.max(scale, Math.abs(ref));
    }
    worst = Math.max(worst, diff / scale);
  }
}
console.log(JSON.stringify({ core, worst }));
`;

function probe(
  addonIndex: string,
  env: NodeJS.ProcessEnv,
  check: boolean,
): { core: string | null; worst: number } | null {
  const result = spawnSync(process.execPath, ['-e', PROBE, addonIndex, check ? 'check' : ''], {
    env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const line = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) return null;
  return JSON.parse(line) as { core: string | null; worst: number };
}

/**
 * Loads OpenBLAS with OPENBLAS_CORETYPE=`core` in a child process: ok when OpenBLAS took that core
 * and the products of the step's shapes agree with a double-precision reference within 1e-5.
 */
export function tryCore(addonIndex: string, core: string): { ok: boolean; reason: string } {
  const tried = probe(addonIndex, { ...process.env, OPENBLAS_CORETYPE: core }, true);
  if (!tried) return { ok: false, reason: `${core} failed to load` };
  if (tried.core?.toLowerCase() !== core.toLowerCase()) return { ok: false, reason: `${core} gave ${tried.core}` };
  if (!(tried.worst < 1e-5)) return { ok: false, reason: `${core} relative error ${tried.worst} (over 1e-5)` };
  return { ok: true, reason: `${core} within ${tried.worst.toExponential(1)} of the reference` };
}

/**
 * Chooses OPENBLAS_CORETYPE for this process (see the top of this file) before the addon at
 * `addonIndex` (native/index.cjs) is first loaded. Only the main thread can set it; elsewhere, and
 * on a second call, it returns what was decided before.
 */
export function prepareBlasCore(addonIndex: string): BlasCoreChoice {
  const previous = process.env[CHOICE_ENV];
  if (previous) return JSON.parse(previous) as BlasCoreChoice;
  const record = (choice: BlasCoreChoice): BlasCoreChoice => {
    if (isMainThread) process.env[CHOICE_ENV] = JSON.stringify(choice);
    return choice;
  };
  if (process.env.OPENBLAS_CORETYPE)
    return record({ chosen: null, reason: `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} set by the user` });
  if (switchedOff(process.env[SWITCH_ENV])) return record({ chosen: null, reason: `core choice off (${SWITCH_ENV})` });
  if (!isMainThread) return { chosen: null, reason: 'core left to OpenBLAS (first loaded in a worker thread)' };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return record({ chosen: null, reason: 'core left to the BLAS' });
  const flags = cpuFlags();
  const own = probe(addonIndex, process.env, false);
  if (!own || own.core === null) return record({ chosen: null, reason: 'core left to OpenBLAS (probe failed)' });
  const candidate = coreTypeFor(own.core, flags);
  if (!candidate) return record({ chosen: null, reason: `${own.core} chosen by OpenBLAS` });
  const trial = tryCore(addonIndex, candidate);
  if (!trial.ok) return record({ chosen: null, reason: `${own.core} kept: ${trial.reason}` });
  process.env.OPENBLAS_CORETYPE = candidate;
  return record({ chosen: candidate, reason: `${candidate} chosen over OpenBLAS's fallback ${own.core}` });
}
