// KL weight and capacity schedules: pure functions of the optimizer step.
import type { TrainConfig } from '../api/config';

/** The schedule fields of the train config. */
export type KlScheduleSpec = Pick<TrainConfig, 'klSchedule' | 'warmupSteps' | 'cycles' | 'cycleRatio'>;

/** The plain ELBO: weight 1 at every step. */
export function constantWeight(_step: number): number {
  return 1;
}

/** KL warm-up (Bowman et al. 2016; Sonderby et al. 2016): min(1, step / warmupSteps), 0 at step 0. */
export function linearWarmup(step: number, warmupSteps: number): number {
  return Math.min(1, Math.max(0, step) / warmupSteps);
}

/**
 * Cyclical annealing (Fu et al. 2019), exactly haofuml/cyclical_annealing's
 * frange_cycle_linear(n_iter = totalSteps, start 0, stop 1, n_cycle = cycles, ratio) at the 0-based
 * update index `step`. That function fills L = ones(n_iter), then for each cycle c writes
 * v = 0, d, 2d, ... (d = 1 / (period * ratio), period = n_iter / n_cycle) at int(i + c * period) while
 * v <= 1; a later cycle overwrites an earlier one. Each cycle writes at most one value at a given
 * index, so the value at `step` is that of the last cycle that writes there, else 1.
 */
export function cyclicalWeight(step: number, totalSteps: number, cycles: number, ratio: number): number {
  const period = totalSteps / cycles;
  const increment = 1 / (period * ratio);
  if (step < 0 || step >= totalSteps) return 1;
  for (let c = cycles - 1; c >= 0; c--) {
    const offset = c * period;
    // The i with floor(i + offset) = step, as Python's int() truncates the float sum.
    let i = Math.ceil(step - offset);
    if (Math.floor(i + offset) > step) i -= 1;
    else if (Math.floor(i + offset) < step) i += 1;
    if (i < 0 || Math.floor(i + offset) !== step) continue;
    // Cycle c writes index i + offset when v_i = i * d <= 1 (the loop's running sum, to rounding).
    const v = i * increment;
    if (v <= 1 + 1e-12) return Math.min(v, 1);
  }
  return 1;
}

/**
 * The schedule's factor on the KL term for the update with 0-based index `step` (the first update
 * of a run is step 0), in [0, 1]. The caller multiplies by beta to get LossOptions.klWeight (beta
 * scales only the KL term).
 */
export function klWeightAt(step: number, spec: KlScheduleSpec, totalSteps: number): number {
  switch (spec.klSchedule) {
    case 'constant':
      return constantWeight(step);
    case 'linear':
      return linearWarmup(step, spec.warmupSteps);
    case 'cyclical':
      return cyclicalWeight(step, totalSteps, spec.cycles, spec.cycleRatio);
  }
}

/** Controlled capacity (Burgess et al. 2018): C(step) = min(cMax, cMax * step / steps). */
export function capacityAt(step: number, capacity: { cMax: number; steps: number }): number {
  return Math.min(capacity.cMax, (capacity.cMax * Math.max(0, step)) / capacity.steps);
}
