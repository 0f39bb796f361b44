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
 * Cyclical annealing (Fu et al. 2019, eq. 6-7): with period T/M, tau = (step mod T/M) / (T/M);
 * the weight is tau / R while tau <= R, then 1 for the rest of the cycle.
 */
export function cyclicalWeight(step: number, totalSteps: number, cycles: number, ratio: number): number {
  const period = totalSteps / cycles;
  const tau = (Math.max(0, step) % period) / period;
  return tau <= ratio ? tau / ratio : 1;
}

/**
 * The schedule's factor on the KL term at a step, in [0, 1]. The caller multiplies by beta to get
 * LossOptions.klWeight (beta scales only the KL term).
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
