// Types the models' config files share (type-only: no run-time imports).
import type { RunConfig } from '../api/config';

/** One refusal: the dot path of the field and what is wrong with it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A model's own cross-field rules over the whole run config (its model part already of that kind). */
export type ConfigRule<M> = (config: Omit<RunConfig, 'model'> & { model: M }) => ConfigIssue[];
