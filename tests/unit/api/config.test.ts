// The run config refuses what a run could not honour, naming the field (#12), and fills the
// defaults that follow the likelihood.
import { describe, expect, it } from 'vitest';
import { ConfigError, iwaeSubsetSize, parseRunConfig } from '../../../src-main/api/config';
import { modelOfKind } from '../../../src-main/api/modelReads';

function refusal(input: unknown): { path: string; message: string }[] {
  try {
    parseRunConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('run config', () => {
  it('binarization and dequantization follow the likelihood when left out', () => {
    const bernoulli = parseRunConfig({});
    expect([bernoulli.data.binarization, bernoulli.data.dequantize]).toEqual(['dynamic', false]);
    const gaussian = parseRunConfig({ model: { likelihood: 'gaussian' } });
    expect([gaussian.data.binarization, gaussian.data.dequantize]).toEqual(['none', true]);
    const grey = parseRunConfig({ model: { likelihood: 'gaussian' }, data: { dequantize: false } });
    expect(grey.data.dequantize).toBe(false);
    // Given explicitly, they are kept; a stored config parses back to itself.
    expect(parseRunConfig(gaussian)).toEqual(gaussian);
    expect(parseRunConfig(bernoulli)).toEqual(bernoulli);
  });

  it('defaults: split seed 0, free bits per dimension, 10,000 MIG points, the IWAE subset is the whole test set up to 2,000', () => {
    const c = parseRunConfig({});
    expect([c.data.splitSeed, c.train.freeBitsPer, c.eval.migPoints, c.eval.iwaeExamples]).toEqual([
      0,
      'dimension',
      10_000,
      null,
    ]);
    expect(iwaeSubsetSize(c)).toBe(1000);
    expect(iwaeSubsetSize(parseRunConfig({ data: { testSize: 2000 } }))).toBe(2000);
    expect(iwaeSubsetSize(parseRunConfig({ data: { testSize: 10_000 } }))).toBe(2000);
    expect(iwaeSubsetSize(parseRunConfig({ data: { testSize: 10_000 }, eval: { iwaeExamples: 500 } }))).toBe(500);
  });

  it('refuses a test set too small for the reconstruction grid: floor(g/2) * g images', () => {
    // g = 8 needs 32 test images; 8 <= testSize < 32 used to crash after the first epoch.
    const issues = refusal({ data: { testSize: 31 } });
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('data.testSize');
    expect(issues[0].message).toMatch(/at least 32 .*eval\.gridSize = 8/);
    expect(parseRunConfig({ data: { testSize: 32 } }).data.testSize).toBe(32);
    expect(parseRunConfig({ data: { testSize: 8 }, eval: { gridSize: 4 } }).data.testSize).toBe(8);
    expect(refusal({ data: { testSize: 9 }, eval: { gridSize: 5 } })[0].message).toMatch(/at least 10\b/);
  });

  it('refuses capacity and free bits with objective iwae, naming each field', () => {
    const issues = refusal({
      model: { kind: 'beta-vae', capacity: { gamma: 100, cMax: 25, steps: 1000 } },
      train: { objective: 'iwae', freeBits: 0.5 },
    });
    expect(issues.map((i) => i.path)).toEqual(['model.capacity', 'train.freeBits']);
    expect(issues[0].message).toMatch(/objective 'elbo' only/);
    expect(parseRunConfig({ train: { objective: 'iwae', objectiveSamples: 8 } }).train.objectiveSamples).toBe(8);
  });

  it('refuses settings that the chosen model, likelihood or schedule never reads', () => {
    const cases: [unknown, string][] = [
      [{ model: { kind: 'ladder', latentDim: 8 } }, 'model.latentDim'],
      [{ model: { kind: 'vae', ladderLatentDims: [8, 4] } }, 'model.ladderLatentDims'],
      [{ model: { gaussianSigma: 0.2 } }, 'model.gaussianSigma'],
      [{ model: { gaussianVariance: 'learned' } }, 'model.gaussianVariance'],
      [{ train: { objectiveSamples: 50 } }, 'train.objectiveSamples'],
      [{ train: { warmupSteps: 500 } }, 'train.warmupSteps'],
      [{ train: { klSchedule: 'linear', cycles: 2 } }, 'train.cycles'],
      [{ train: { cycleRatio: 0.3 } }, 'train.cycleRatio'],
      [{ data: { dequantize: true } }, 'data.dequantize'],
      [{ model: { likelihood: 'gaussian' }, data: { binarization: 'dynamic', dequantize: true } }, 'data.dequantize'],
      [{ model: { likelihood: 'gaussian', gaussianVariance: 'learned', gaussianSigma: 0.001 } }, 'model.gaussianSigma'],
    ];
    for (const [input, path] of cases)
      expect(
        refusal(input).map((i) => i.path),
        JSON.stringify(input),
      ).toEqual([path]);
    // The same fields are fine where they apply.
    expect(
      modelOfKind(parseRunConfig({ model: { kind: 'ladder', ladderLatentDims: [8, 4] } }).model, 'ladder')
        .ladderLatentDims,
    ).toEqual([8, 4]);
    expect(parseRunConfig({ train: { klSchedule: 'cyclical', cycles: 2, cycleRatio: 0.3 } }).train.cycles).toBe(2);
    expect(parseRunConfig({ model: { likelihood: 'gaussian', gaussianSigma: 0.2 } }).model.gaussianSigma).toBe(0.2);
  });
});
