// What the CLI flags, the new-run form, the run details and the config diff know about each model's
// fields, derived from the zod schemas (models/<kind>/config.ts) through their JSON Schema
// (z.toJSONSchema) and the fields' meta: a plain, serializable table. The renderer paints with a
// generated copy of it (src-renderer/src/lib/modelFields.generated.ts, written by
// `npm run gen:model-fields`; a unit test fails when the copy is stale), so zod stays off its
// start-up path.
import { z } from 'zod';
import { MODEL_KINDS } from '../api/constants';
import type { AppliesWhen } from './configParts';
import { NETWORK_FIELD_KEYS } from './configParts';
import { MODEL_CONFIGS, type ModelKind } from './configs';

export type FieldType = 'integer' | 'number' | 'enum' | 'integer-list' | 'boolean' | 'object';

export interface FieldSpec {
  key: string;
  type: FieldType;
  label: string;
  description: string;
  /** The CLI flag, without the dashes. */
  flag: string;
  default: unknown;
  nullable: boolean;
  minimum?: number;
  maximum?: number;
  options?: (string | number)[];
  minItems?: number;
  maxItems?: number;
  appliesWhen?: AppliesWhen;
  /** Where the form starts the field, when not at its default. */
  formStart?: unknown;
  /** An object field's own fields (controlled capacity). */
  fields?: FieldSpec[];
}

export interface KindSpec {
  kind: ModelKind;
  label: string;
  description: string;
  /** Values the kind has by definition, without a field (a plain VAE's beta = 1). */
  fixed: Record<string, unknown>;
  /** Every field but `kind`, in schema order; `network` marks the ones every model shares. */
  fields: (FieldSpec & { network: boolean })[];
}

interface JsonSchema {
  type?: string;
  enum?: (string | number)[];
  const?: unknown;
  default?: unknown;
  description?: string;
  label?: string;
  flag?: string;
  appliesWhen?: AppliesWhen;
  formStart?: unknown;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function fieldSpec(key: string, schema: JsonSchema, flagPrefix = ''): FieldSpec {
  const options = schema.anyOf ?? [schema];
  const value = options.find((o) => o.type !== 'null') ?? schema;
  const nullable = options.some((o) => o.type === 'null');
  const type: FieldType =
    value.enum !== undefined
      ? 'enum'
      : value.type === 'array'
        ? 'integer-list'
        : value.type === 'integer' || value.type === 'number' || value.type === 'boolean' || value.type === 'object'
          ? value.type
          : (() => {
              throw new Error(`model field ${key}: no form/CLI mapping for JSON Schema type ${value.type}`);
            })();
  if (type === 'integer-list' && value.items?.type !== 'integer')
    throw new Error(`model field ${key}: only lists of integers are mapped`);
  const flag = schema.flag ?? value.flag ?? `${flagPrefix}${kebab(key)}`;
  const spec: FieldSpec = {
    key,
    type,
    label: schema.label ?? key,
    description: schema.description ?? value.description ?? '',
    flag,
    default: schema.default ?? value.default ?? null,
    nullable,
  };
  const range = type === 'integer-list' ? value.items! : value;
  if (range.minimum !== undefined) spec.minimum = range.minimum;
  if (range.maximum !== undefined) spec.maximum = range.maximum;
  if (value.enum) spec.options = value.enum;
  if (value.minItems !== undefined) spec.minItems = value.minItems;
  if (value.maxItems !== undefined) spec.maxItems = value.maxItems;
  if (schema.appliesWhen) spec.appliesWhen = schema.appliesWhen;
  if (schema.formStart !== undefined) spec.formStart = schema.formStart;
  if (type === 'object')
    spec.fields = Object.entries(value.properties ?? {}).map(([k, s]) => fieldSpec(k, s, `${flag}-`));
  return spec;
}

/** Every model kind's fields, from its schema. */
export function modelFieldSpecs(): Record<ModelKind, KindSpec> {
  const out = {} as Record<ModelKind, KindSpec>;
  for (const kind of MODEL_KINDS) {
    const schema = MODEL_CONFIGS[kind].schema as z.ZodObject;
    const json = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
    const meta = schema.meta() ?? {};
    out[kind] = {
      kind,
      label: meta.label ?? kind,
      description: meta.description ?? '',
      fixed: meta.fixed ?? {},
      fields: Object.entries(json.properties ?? {})
        .filter(([key]) => key !== 'kind')
        .map(([key, s]) => ({ ...fieldSpec(key, s), network: (NETWORK_FIELD_KEYS as string[]).includes(key) })),
    };
  }
  return out;
}

/**
 * The CLI's model flags: one per field key across all kinds (a key several kinds share is one
 * flag), object fields as one flag per inner field. `kinds` lists who reads it, and `readers` each
 * one's description and default (a shared key may mean another thing per kind: beta).
 */
export function modelFlags(): {
  spec: FieldSpec;
  path: string[];
  kinds: ModelKind[];
  readers: { kind: ModelKind; description: string; default: unknown }[];
}[] {
  const byFlag = new Map<string, ReturnType<typeof modelFlags>[number]>();
  for (const kind of Object.values(modelFieldSpecs())) {
    for (const field of kind.fields) {
      const leaves =
        field.type === 'object'
          ? field.fields!.map((f) => ({ spec: f, path: [field.key, f.key] }))
          : [{ spec: field as FieldSpec, path: [field.key] }];
      for (const leaf of leaves) {
        const reader = { kind: kind.kind, description: leaf.spec.description, default: leaf.spec.default };
        const seen = byFlag.get(leaf.spec.flag);
        if (seen) {
          seen.kinds.push(kind.kind);
          seen.readers.push(reader);
        } else byFlag.set(leaf.spec.flag, { ...leaf, kinds: [kind.kind], readers: [reader] });
      }
    }
  }
  return [...byFlag.values()];
}
