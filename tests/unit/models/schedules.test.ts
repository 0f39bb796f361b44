import { describe, expect, it } from 'vitest';
import { activeUnits, unitActivity } from '../../../src-main/models/activeUnits';
import {
  capacityAt,
  constantWeight,
  cyclicalWeight,
  klWeightAt,
  linearWarmup,
} from '../../../src-main/models/schedules';

describe('KL schedules', () => {
  it('constant is 1 at every step', () => {
    expect([0, 1, 1e6].map(constantWeight)).toEqual([1, 1, 1]);
  });

  it('linear warm-up rises 0 -> 1 over warmupSteps and stays 1', () => {
    expect([0, 250, 500, 1000, 5000].map((s) => linearWarmup(s, 1000))).toEqual([0, 0.25, 0.5, 1, 1]);
  });

  it('cyclical (Fu et al. 2019): M = 4 cycles over 1000 steps, R = 0.5', () => {
    // period 250; weight tau / R over the first half of each cycle, then 1
    const steps = [0, 50, 125, 200, 249, 250, 300, 500, 875, 999];
    const expected = [0, 0.4, 1, 1, 1, 0, 0.4, 0, 1, 1];
    steps.forEach((s, i) => expect(cyclicalWeight(s, 1000, 4, 0.5)).toBeCloseTo(expected[i], 12));
    expect(cyclicalWeight(100, 1000, 1, 1)).toBeCloseTo(0.1, 12); // R = 1, one cycle: a linear ramp over the run
  });

  it('cyclical equals frange_cycle_linear (haofuml/cyclical_annealing) at every 0-based step', () => {
    // A line-by-line port of the reference's frange_cycle_linear(n_iter, start=0, stop=1, n_cycle, ratio).
    const frange = (nIter: number, nCycle: number, ratio: number): number[] => {
      const L = new Array<number>(nIter).fill(1);
      const period = nIter / nCycle;
      const step = 1 / (period * ratio);
      for (let c = 0; c < nCycle; c++) {
        let v = 0;
        let i = 0;
        while (v <= 1 && Math.trunc(i + c * period) < nIter) {
          L[Math.trunc(i + c * period)] = v;
          v += step;
          i += 1;
        }
      }
      return L;
    };
    const cases: [number, number, number][] = [
      [1000, 4, 0.5],
      [4690, 4, 0.5], // 10 epochs of MNIST at batch 128: a period of 1172.5 steps
      [937, 3, 0.7],
      [100, 1, 1],
      [10, 4, 1], // ratio 1: a cycle's last write lands on the next cycle's first index, which the next overwrites
      [7, 2, 0.25],
    ];
    for (const [n, m, r] of cases) {
      const reference = frange(n, m, r);
      const ours = reference.map((_, step) => cyclicalWeight(step, n, m, r));
      ours.forEach((w, step) => expect(Math.abs(w - reference[step])).toBeLessThan(1e-9));
      // Only a cycle's first update has weight 0: M zeros per run, and the last update is never 0.
      expect(ours.filter((w) => w === 0).length).toBe(reference.filter((w) => w === 0).length);
      expect(ours[n - 1]).toBeGreaterThan(0);
    }
    expect(frange(1000, 4, 0.5).filter((w) => w === 0).length).toBe(4);
  });

  it('klWeightAt dispatches on the train config', () => {
    const spec = { klSchedule: 'linear' as const, warmupSteps: 200, cycles: 4, cycleRatio: 0.5 };
    expect(klWeightAt(50, spec, 1000)).toBe(0.25);
    expect(klWeightAt(50, { ...spec, klSchedule: 'constant' }, 1000)).toBe(1);
    expect(klWeightAt(300, { ...spec, klSchedule: 'cyclical' }, 1000)).toBeCloseTo(0.4, 12);
  });

  it('capacity C(step) = min(cMax, cMax step / steps)', () => {
    const capacity = { cMax: 25, steps: 100_000 };
    expect([0, 20_000, 50_000, 100_000, 300_000].map((s) => capacityAt(s, capacity))).toEqual([0, 5, 12.5, 25, 25]);
  });
});

describe('active units', () => {
  it('counts dims whose posterior mean varies over x by more than 0.01', () => {
    // column 0 alternates +-1 (variance 1), column 1 +-0.07 (0.0049), column 2 constant, column 3 +-0.11 (0.0121)
    const n = 100;
    const means = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const s = i % 2 === 0 ? 1 : -1;
      means.set([s, 0.07 * s, 3, 0.11 * s], i * 4);
    }
    const activity = unitActivity(means, n, 4);
    expect(activity[0]).toBeCloseTo(1, 6);
    expect(activity[1]).toBeCloseTo(0.0049, 6);
    expect(activity[2]).toBeCloseTo(0, 10);
    expect(activeUnits(means, n, 4)).toBe(2);
  });
});
