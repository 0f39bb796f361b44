// Which config keys matter for a run: a Bernoulli decoder has no sigma, a Gaussian posterior no flow
// steps, a constant KL schedule no warm-up. The run details list only these, so a reader is not
// left wondering what 'cycles: 4' did to a run that never cycled. The model's keys come from its
// schema (MODEL_FIELDS, generated from models/<kind>/config.ts): its own fields, each with the
// field it depends on (meta.appliesWhen); the train section's rules are written out here.
import type { RunConfig } from '@api/config';
import type { AppliesWhen } from '../../../src-main/models/configParts';
import { MODEL_FIELDS } from './modelFields.generated';

/** Whether a field's meta.appliesWhen holds, reading the other field through `read` (true without one). */
export function appliesWhenHolds(when: AppliesWhen | undefined, read: (key: string) => unknown): boolean {
  if (!when) return true;
  const value = String(read(when.key));
  return when.values.some((v) => String(v) === value);
}

/** Whether `section.key` has any effect on a run with this config. */
export function configKeyApplies(config: RunConfig, section: string, key: string): boolean {
  const { model, train } = config;
  if (section === 'model') {
    if (key === 'kind') return true;
    const spec = MODEL_FIELDS[model.kind]?.fields.find((f) => f.key === key);
    if (!spec) return false; // not a field of this kind
    return appliesWhenHolds(spec.appliesWhen, (k) => (model as Record<string, unknown>)[k]);
  }
  switch (`${section}.${key}`) {
    case 'train.objectiveSamples':
      return train.objective === 'iwae';
    case 'train.warmupSteps':
      return train.klSchedule === 'linear';
    case 'train.cycles':
    case 'train.cycleRatio':
      return train.klSchedule === 'cyclical';
    default:
      return true;
  }
}

/** The config's sections with only the keys that apply, and how many were left out. */
export function applicableConfig(config: RunConfig): {
  sections: { section: string; fields: [string, unknown][] }[];
  hidden: string[];
} {
  const hidden: string[] = [];
  const sections = (Object.entries(config) as [string, Record<string, unknown>][]).map(([section, fields]) => ({
    section,
    fields: Object.entries(fields).filter(([key]) => {
      const keep = configKeyApplies(config, section, key);
      if (!keep) hidden.push(`${section}.${key}`);
      return keep;
    }),
  }));
  return { sections, hidden };
}
