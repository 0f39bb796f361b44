// The OpenBLAS kernel-family choice (accelerate/blasCore.ts): which core is asked for on which CPU,
// that the choice is made only for fallback cores and never over a user's OPENBLAS_CORETYPE, and
// the probe that validates a core (it loads OpenBLAS in a child process with the core forced and
// multiplies the step's shapes against a double-precision reference).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coreTypeFor, cpuFlags, FALLBACK_CORES, tryCore } from '../../../src-main/training/accelerate/blasCore';
import { loadSgemmAddon } from '../../../src-main/training/accelerate';
import { requirement } from '../../helpers/requirements';

const AVX512 = new Set(['sse3', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd']);
const AVX2 = new Set(['sse3', 'avx', 'avx2', 'fma']);
const SSE = new Set(['sse3', 'ssse3', 'sse4_2']);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const available = requirement(
  import.meta.filename,
  loadSgemmAddon().addon !== null && typeof loadSgemmAddon().addon?.coreName === 'function',
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;

describe('OpenBLAS core choice', () => {
  it('asks for SkylakeX (AVX-512) or Haswell (AVX2) only in place of a fallback core', () => {
    expect(coreTypeFor('Prescott', AVX512)).toBe('SkylakeX');
    expect(coreTypeFor('Core2', AVX512)).toBe('SkylakeX');
    expect(coreTypeFor('prescott', AVX2)).toBe('Haswell');
    expect(coreTypeFor('Nehalem', AVX2)).toBe('Haswell');
    // A CPU without AVX2 keeps what OpenBLAS picked; so does a recognised core.
    expect(coreTypeFor('Prescott', SSE)).toBeNull();
    for (const core of ['SkylakeX', 'Cooperlake', 'Haswell', 'Zen', 'Sandybridge'])
      expect(coreTypeFor(core, AVX512)).toBeNull();
    expect(FALLBACK_CORES).toContain('Prescott');
  });

  it('reads the flags line of /proc/cpuinfo', () => {
    const flags = cpuFlags('processor\t: 0\nflags\t\t: fpu sse3 avx2 fma avx512f\nbugs\t: none\n');
    expect([...flags]).toEqual(['fpu', 'sse3', 'avx2', 'fma', 'avx512f']);
    expect(cpuFlags('no flags here').size).toBe(0);
  });

  it.skipIf(!available)('a user OPENBLAS_CORETYPE is kept, and the choice is recorded for child processes', () => {
    const script = `
      const { loadSgemmAddon, blasCoreChoice } = await import('./src-main/training/accelerate/addon.ts');
      const { addon } = loadSgemmAddon();
      console.log(JSON.stringify({ core: addon.coreName(), choice: blasCoreChoice(), env: process.env.VAE_WORKBENCH_BLAS_CORE_CHOICE }));`;
    const run = (env: Record<string, string>) => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, VAE_WORKBENCH_BLAS_CORE_CHOICE: '', ...env },
        encoding: 'utf8',
      });
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout.trim().split('\n').pop()!);
    };
    const forced = run({ OPENBLAS_CORETYPE: 'Haswell' });
    expect(forced.core).toBe('Haswell');
    expect(forced.choice).toEqual({ chosen: null, reason: 'OPENBLAS_CORETYPE=Haswell set by the user' });
    expect(JSON.parse(forced.env)).toEqual(forced.choice);
    const off = run({ OPENBLAS_CORETYPE: '', VAE_WORKBENCH_BLAS_CORETYPE: 'off' });
    expect(off.choice.chosen).toBeNull();
    expect(off.choice.reason).toMatch(/core choice off/);
    // Left alone, this machine's OpenBLAS either recognised the CPU or got a validated better core.
    const auto = run({ OPENBLAS_CORETYPE: '' });
    if (auto.choice.chosen) expect(auto.core).toBe(auto.choice.chosen);
    else expect(auto.choice.reason).toMatch(new RegExp(`${auto.core} (chosen by OpenBLAS|kept)`));
  });

  it.skipIf(!available || !cpuFlags().has('avx2'))(
    'a core is validated by loading it in a child and checking products against a reference',
    () => {
      const index = join(ROOT, 'native', 'index.cjs');
      const haswell = tryCore(index, 'Haswell');
      expect(haswell.ok, haswell.reason).toBe(true);
      expect(haswell.reason).toMatch(/^Haswell within \S+ of the reference$/);
      // A name OpenBLAS does not know: it falls back to its own pick, which is not what was asked.
      const unknown = tryCore(index, 'NoSuchCore');
      expect(unknown.ok).toBe(false);
      expect(unknown.reason).toMatch(/^NoSuchCore gave /);
    },
  );
});
