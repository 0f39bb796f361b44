// Grid sweeps (issue #15): every combination of several parameters' values (W&B's "grid"), e.g.
// model.beta = 1, 4, 16 x train.seed = 0, 1, 2 -> 9 runs. Planned in full, and every member
// validated, before any run is created, so a bad value leaves nothing behind.
import { flattenConfig, type RunConfig } from '../api/config';
import { ApiError, MAX_GRID_RUNS } from '../api/contract';
import { foreignKeyMessage, kindsWithKey } from '../models/configs';

export type GridValue = number | string | boolean;
export interface GridAxis {
  param: string;
  values: GridValue[];
}

export interface PlannedRun {
  config: RunConfig;
  name: string;
  /** The grid values of this run, by param. */
  values: Record<string, GridValue>;
}

/** Number of runs of a grid: the product of its value counts (duplicate values count once). */
export function gridSize(grid: readonly GridAxis[]): number {
  return grid.reduce((n, axis) => n * new Set(axis.values).size, 1);
}

/** All combinations, the first axis varying slowest (runs of one beta stay together). */
export function gridCombinations(grid: readonly GridAxis[]): Record<string, GridValue>[] {
  let out: Record<string, GridValue>[] = [{}];
  for (const axis of grid) {
    const values = [...new Set(axis.values)];
    out = out.flatMap((combo) => values.map((v) => ({ ...combo, [axis.param]: v })));
  }
  return out;
}

/**
 * The runs of a grid sweep over `base`. `parse` validates one member config (throwing the
 * schema's message). A param must be a scalar key of the config; a grid of more than
 * MAX_GRID_RUNS runs, or one naming a param twice, is refused.
 */
export function planGrid(
  base: RunConfig,
  experiment: string,
  grid: readonly GridAxis[],
  parse: (config: unknown) => RunConfig,
): PlannedRun[] {
  const flat = flattenConfig(base);
  const seen = new Set<string>();
  for (const axis of grid) {
    if (seen.has(axis.param)) throw new ApiError(400, `Grid sweep: ${axis.param} is listed twice`, 'grid');
    seen.add(axis.param);
    const current = flat[axis.param];
    // A model field must be one of the base's kind (models/<kind>/config.ts); the one exception is a
    // beta sweep over a 'vae', which makes its members beta-VAEs.
    const [section, key] = axis.param.split('.');
    if (section === 'model' && key !== undefined && !(axis.param in flat) && kindsWithKey(key).length > 0) {
      if (!(key === 'beta' && base.model.kind === 'vae'))
        throw new ApiError(400, `Grid sweep: ${axis.param}: ${foreignKeyMessage(base.model.kind, key)}`, 'grid');
      continue;
    }
    if (!(axis.param in flat) || (current !== null && typeof current === 'object'))
      throw new ApiError(
        400,
        `Grid sweep: ${axis.param} is not a scalar config key (e.g. model.beta, model.latentDim, train.lr, train.seed)`,
        'grid',
      );
  }
  const size = gridSize(grid);
  if (size > MAX_GRID_RUNS)
    throw new ApiError(400, `Grid sweep: ${size} runs is more than the ${MAX_GRID_RUNS} one sweep may start`, 'grid');
  return gridCombinations(grid).map((values) => {
    const copy = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
    for (const [param, value] of Object.entries(values)) {
      const [section, key] = param.split('.');
      copy[section][key] = value;
    }
    // A plain VAE has beta = 1: a beta sweep over a 'vae' config makes its other members beta-VAEs.
    if (values['model.beta'] !== undefined && copy.model.kind === 'vae' && values['model.beta'] !== 1)
      copy.model.kind = 'beta-vae';
    const label = Object.entries(values)
      .map(([p, v]) => `${p}=${v}`)
      .join(' ');
    let config: RunConfig;
    try {
      config = parse(copy);
    } catch (error) {
      const field = error instanceof ApiError ? error.field : undefined;
      throw new ApiError(400, `Grid sweep run ${label}: ${(error as Error).message}`, field ?? 'grid');
    }
    return { config, name: `${experiment} ${label}`, values };
  });
}
