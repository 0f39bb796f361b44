// The registry of model config schemas: one line per model. `model` of a run config is the
// discriminated union of these on `kind` (left out: 'vae'); each model's folder holds its schema and
// its own cross-field rules (models/<kind>/config.ts). A new model adds its folder, a line here and a
// line in models/index.ts (its builder); the CLI flags, the form's fields, the run details and the
// config diff follow from the schema (models/configFields.ts).
//
// Plain zod: api/config.ts and the renderer's lazily loaded validation import this; nothing here
// loads tfjs (the layer rule in scripts/eslint-layers.mjs holds it).
import { z } from 'zod';
import type { MODEL_KINDS } from '../api/constants';
import { BetaTcvaeConfigSchema, betaTcvaeRules } from './betaTcvae/config';
import { BetaVaeConfigSchema, betaVaeRules } from './betaVae/config';
import type { ConfigRule } from './configTypes';
import { ladderHints, LadderConfigSchema, ladderRules } from './ladder/config';
import { vaeHints, VaeConfigSchema, vaeRules } from './vae/config';
import { vqVaeHints, VqVaeConfigSchema, vqVaeRules } from './vqvae/config';

export type ModelKind = (typeof MODEL_KINDS)[number];

/** Each model kind's schema and rules (the `satisfies` holds it to MODEL_KINDS, the zod-free list the renderer paints with). */
export const MODEL_CONFIGS = {
  vae: { schema: VaeConfigSchema, rules: vaeRules, hints: vaeHints },
  'beta-vae': { schema: BetaVaeConfigSchema, rules: betaVaeRules, hints: {} },
  ladder: { schema: LadderConfigSchema, rules: ladderRules, hints: ladderHints },
  'beta-tcvae': { schema: BetaTcvaeConfigSchema, rules: betaTcvaeRules, hints: {} },
  'vq-vae': { schema: VqVaeConfigSchema, rules: vqVaeRules, hints: vqVaeHints },
} satisfies Record<ModelKind, { schema: z.ZodObject; rules: ConfigRule<never>; hints: Record<string, string> }>;

export const ModelConfigSchema = z.discriminatedUnion('kind', [
  VaeConfigSchema,
  BetaVaeConfigSchema,
  LadderConfigSchema,
  BetaTcvaeConfigSchema,
  VqVaeConfigSchema,
]);

export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type ModelConfigOf<K extends ModelKind> = Extract<ModelConfig, { kind: K }>;
export type { VaeConfig } from './vae/config';
import type { BetaVaeConfig } from './betaVae/config';
export type { BetaVaeConfig };
export type { LadderConfig } from './ladder/config';
export type { BetaTcvaeConfig } from './betaTcvae/config';
export type { VqVaeConfig } from './vqvae/config';

/** The keys of a kind's model config, in schema order. */
export function modelKeys(kind: ModelKind): string[] {
  return Object.keys(MODEL_CONFIGS[kind].schema.shape);
}

/** The kinds whose config has this key. */
export function kindsWithKey(key: string): ModelKind[] {
  return (Object.keys(MODEL_CONFIGS) as ModelKind[]).filter((kind) => key in MODEL_CONFIGS[kind].schema.shape);
}

/** A model config of this kind with every field at its default. */
export function defaultModelConfig<K extends ModelKind>(kind: K): ModelConfigOf<K> {
  return MODEL_CONFIGS[kind].schema.parse({ kind }) as ModelConfigOf<K>;
}

/**
 * The model fields of configs written before 0.4, when `model` was one flat object holding every
 * variant's fields (migrations/0007 rewrites the stored ones). An input may still carry them: a key
 * its kind does not have is dropped when it holds this value (what the flat schema filled in), so
 * old bundles and config files load; any other value is refused by the kind's strict schema.
 */
export const FLAT_MODEL_DEFAULTS: Readonly<Record<string, unknown>> = {
  latentDim: 20,
  ladderLatentDims: [32, 16],
  beta: 1,
  capacity: null,
  posterior: 'gaussian',
  flowLength: 4,
  alpha: 1,
  gamma: 1,
  codebookSize: 512,
  codeDim: 64,
  codePositions: 16,
  commitment: 0.25,
  codebookUpdate: 'ema',
  emaDecay: 0.99,
  deadCodeSteps: 0,
};

/** The model input with the flat-era fields its kind does not have removed where they hold their old default. */
export function upgradeFlatModel(model: unknown): unknown {
  if (model === null || typeof model !== 'object' || Array.isArray(model)) return model;
  const input = model as Record<string, unknown>;
  const kind = input.kind ?? 'vae';
  if (typeof kind !== 'string' || !(kind in MODEL_CONFIGS)) return model;
  const shape = MODEL_CONFIGS[kind as ModelKind].schema.shape as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    // (A key given as undefined is a key left out, as JSON would have it.)
    const dropped =
      !(key in shape) &&
      (value === undefined ||
        (key in FLAT_MODEL_DEFAULTS && JSON.stringify(value) === JSON.stringify(FLAT_MODEL_DEFAULTS[key])));
    if (!dropped) out[key] = value;
  }
  return out;
}

/** Why `key` is refused on a model of this kind: its own hint, else which kinds have it. */
export function foreignKeyMessage(kind: ModelKind, key: string): string {
  const hints: Record<string, string> = MODEL_CONFIGS[kind].hints;
  if (hints[key]) return hints[key];
  const owners = kindsWithKey(key);
  if (owners.length === 0) return `not a model field (a model.kind '${kind}' has ${modelKeys(kind).join(', ')})`;
  return `applies only to model.kind ${owners.map((k) => `'${k}'`).join(' or ')} (this is '${kind}')`;
}

/**
 * Fields set away from their default although the field they depend on (meta.appliesWhen) has
 * another value: e.g. model.flowLength with a Gaussian posterior.
 */
export function inapplicableFields(model: ModelConfig): { path: string; message: string }[] {
  const schema = MODEL_CONFIGS[model.kind].schema as z.ZodObject;
  const defaults = defaultModelConfig(model.kind) as Record<string, unknown>;
  const values = model as Record<string, unknown>;
  const out: { path: string; message: string }[] = [];
  for (const [key, field] of Object.entries(schema.shape)) {
    const when = (field as z.ZodType).meta()?.appliesWhen;
    if (!when || when.values.includes(values[when.key] as string)) continue;
    if (JSON.stringify(values[key]) === JSON.stringify(defaults[key])) continue;
    out.push({
      path: `model.${key}`,
      message: `applies only to model.${when.key} ${when.values.map((v) => `'${v}'`).join(' or ')}`,
    });
  }
  return out;
}
