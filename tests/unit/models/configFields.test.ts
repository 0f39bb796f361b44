// The model fields' table derived from the zod schemas (#14): what the CLI flags, the form, the run
// details and the config diff use. Its generated copy for the renderer must equal it.
import { describe, expect, it } from 'vitest';
import { MODEL_KINDS, parseRunConfig } from '../../../src-main/api/config';
import { modelFieldSpecs, modelFlags } from '../../../src-main/models/configFields';
import {
  defaultModelConfig,
  kindsWithKey,
  MODEL_CONFIGS,
  ModelConfigSchema,
  modelKeys,
} from '../../../src-main/models/configs';
import { modelOptions } from '../../../src-main/cli/options';
import { MODEL_FIELDS } from '../../../src-renderer/src/lib/modelFields.generated';

describe('model field specs', () => {
  it('the renderer’s generated copy is current (else: npm run gen:model-fields)', () => {
    expect(MODEL_FIELDS).toEqual(modelFieldSpecs());
  });

  it('every kind of MODEL_KINDS has a schema, and its fields are the schema’s keys with its defaults', () => {
    const specs = modelFieldSpecs();
    expect(Object.keys(MODEL_CONFIGS)).toEqual([...MODEL_KINDS]);
    for (const kind of MODEL_KINDS) {
      const fields = specs[kind].fields;
      expect(['kind', ...fields.map((f) => f.key)]).toEqual(modelKeys(kind));
      const defaults = defaultModelConfig(kind) as Record<string, unknown>;
      for (const field of fields)
        expect([kind, field.key, field.default]).toEqual([kind, field.key, defaults[field.key]]);
      // Each field a form can show comes with a label and a description.
      for (const field of fields) expect(field.label.length * field.description.length).toBeGreaterThan(0);
    }
  });

  it('types, ranges and choices are the schema’s', () => {
    const vq = modelFieldSpecs()['vq-vae'].fields;
    const byKey = Object.fromEntries(vq.map((f) => [f.key, f]));
    expect(byKey.codebookSize).toMatchObject({ type: 'integer', minimum: 2, maximum: 65_536, default: 512 });
    expect(byKey.commitment).toMatchObject({ type: 'number', minimum: 0, maximum: 100, default: 0.25 });
    expect(byKey.codebookUpdate).toMatchObject({ type: 'enum', options: ['loss', 'ema'], default: 'ema' });
    expect(byKey.emaDecay.appliesWhen).toEqual({ key: 'codebookUpdate', values: ['ema'] });
    expect(byKey.hidden).toMatchObject({ type: 'integer-list', minItems: 1, maxItems: 6, network: true });
    const capacity = modelFieldSpecs()['beta-vae'].fields.find((f) => f.key === 'capacity')!;
    expect(capacity).toMatchObject({ type: 'object', nullable: true, default: null });
    expect(capacity.fields!.map((f) => [f.flag, f.default])).toEqual([
      ['capacity-gamma', 1000],
      ['capacity-max', 25],
      ['capacity-steps', 100_000],
    ]);
  });

  it('the CLI has one flag per field key across the kinds, naming the kinds that read it', () => {
    const flags = modelFlags();
    const names = flags.map((f) => f.spec.flag);
    expect(new Set(names).size).toBe(names.length);
    const allKeys = new Set(MODEL_KINDS.flatMap((k) => modelKeys(k)).filter((k) => k !== 'kind' && k !== 'capacity'));
    expect(
      flags
        .filter((f) => f.path.length === 1)
        .map((f) => f.path[0])
        .sort(),
    ).toEqual([...allKeys].sort());
    expect(flags.find((f) => f.spec.flag === 'latent-dim')!.kinds).toEqual(kindsWithKey('latentDim'));
    expect(kindsWithKey('latentDim')).toEqual(['vae', 'beta-vae', 'beta-tcvae']);
    const help = modelOptions().find((o) => o.long === '--codebook-update')!;
    expect(help.argChoices).toEqual(['loss', 'ema']);
    expect(help.description).toMatch(/\(vq-vae; default ema\)$/);
    // A key several kinds read differently says what it is for each, with each default.
    expect(modelOptions().find((o) => o.long === '--beta')!.description).toMatch(
      /beta-vae: weight on the KL term; .*beta-tcvae: weight on the total correlation \(0-1000; default 1\)/,
    );
  });

  it("a field's appliesWhen refuses it set away from its default when the field it depends on says otherwise", () => {
    expect(() => parseRunConfig({ model: { kind: 'vq-vae', codebookUpdate: 'loss', emaDecay: 0.9 } })).toThrow(
      /model\.emaDecay: applies only to model\.codebookUpdate 'ema'/,
    );
    expect(() => parseRunConfig({ model: { flowLength: 8 } })).toThrow(
      /model\.flowLength: applies only to model\.posterior 'planar' or 'iaf'/,
    );
    expect(parseRunConfig({ model: { kind: 'vq-vae', codebookUpdate: 'loss' } }).model).toMatchObject({
      codebookUpdate: 'loss',
      emaDecay: 0.99,
    });
  });
});

describe('the model registry', () => {
  it('the discriminated union has exactly the registry’s schemas, in MODEL_KINDS order', () => {
    expect(ModelConfigSchema.options).toEqual(MODEL_KINDS.map((kind) => MODEL_CONFIGS[kind].schema));
  });
});
