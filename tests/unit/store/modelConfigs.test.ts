// Migration 0007 (#14): stored run configs from when `model` was one flat object of every variant's
// fields become their kind's own config (src-main/models/<kind>/config.ts), values kept.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRecordedRunConfig, parseRunConfig } from '../../../src-main/api/config';
import { REPO_ROOT, cleanup, openTempStore, tempDir } from './helpers';

afterEach(cleanup);

/** A migrations folder with the repository's first six migrations: a database as version 0.3 left it. */
function version6Migrations(): string {
  const dir = tempDir();
  for (const name of fs.readdirSync(path.join(REPO_ROOT, 'migrations')).filter((n) => /^000[1-6]_/.test(n)))
    fs.copyFileSync(path.join(REPO_ROOT, 'migrations', name), path.join(dir, name));
  return dir;
}

/** The flat model object version 0.3 stored: every field, at its default unless given. */
const flatModel = (fields: Record<string, unknown>) => ({
  kind: 'vae',
  architecture: 'mlp',
  latentDim: 20,
  ladderLatentDims: [32, 16],
  hidden: [400],
  activation: 'relu',
  likelihood: 'bernoulli',
  gaussianVariance: 'fixed',
  gaussianSigma: 0.1,
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
  ...fields,
});

/** A whole stored config of version 0.3 around a model. */
function flatConfig(model: Record<string, unknown>, train: Record<string, unknown> = {}) {
  const parsed = parseRunConfig({ data: { trainSize: 100, testSize: 40 } });
  return { ...parsed, model: flatModel(model), train: { ...parsed.train, ...train } };
}

describe('per-kind model configs (migration 0007)', () => {
  it('each stored flat config keeps its kind’s fields and values, loses the rest, and parses as it is', () => {
    const v6 = openTempStore({ migrationsDir: version6Migrations() });
    const insert = v6.db.prepare(
      `INSERT INTO runs (id, name, config_json, seed, model_kind, dataset, app_version, status, created_at, updated_at)
       VALUES (?, ?, ?, 0, ?, 'mnist', '0.3.0', 'completed', 1, 1)`,
    );
    const stored = {
      vae: flatConfig({ latentDim: 8, posterior: 'iaf', flowLength: 2 }),
      beta: flatConfig({ kind: 'beta-vae', beta: 4, capacity: { gamma: 100, cMax: 5, steps: 1000 } }),
      ladder: flatConfig({ kind: 'ladder', ladderLatentDims: [8, 4], beta: 2 }),
      tc: flatConfig({ kind: 'beta-tcvae', alpha: 1, beta: 6, gamma: 2, latentDim: 10 }),
      vq: flatConfig({ kind: 'vq-vae', codebookSize: 64, codeDim: 8, codePositions: 4, emaDecay: 0.9 }),
    };
    for (const [id, config] of Object.entries(stored))
      insert.run(id, id, JSON.stringify(config), config.model.kind as string);
    // A row from before flows and per-dimension free bits: no posterior, no freeBitsPer.
    const older = flatConfig({ latentDim: 5 }, { freeBits: 0.5 }) as Record<string, Record<string, unknown>>;
    delete older.model.posterior;
    delete older.model.flowLength;
    delete older.train.freeBitsPer;
    delete older.data.splitSeed;
    delete older.data.dequantize;
    insert.run('older', 'older', JSON.stringify(older), 'vae');
    v6.close();

    const v7 = openTempStore({}, v6.file);
    const model = (id: string) => v7.runs.get(id)!.config.model;
    expect(model('vae')).toEqual({
      kind: 'vae',
      architecture: 'mlp',
      hidden: [400],
      activation: 'relu',
      likelihood: 'bernoulli',
      gaussianVariance: 'fixed',
      gaussianSigma: 0.1,
      latentDim: 8,
      posterior: 'iaf',
      flowLength: 2,
    });
    expect(model('beta')).toMatchObject({ kind: 'beta-vae', beta: 4, capacity: { gamma: 100, cMax: 5, steps: 1000 } });
    expect(Object.keys(model('beta')).sort()).toEqual(
      [
        'kind',
        'architecture',
        'hidden',
        'activation',
        'likelihood',
        'gaussianVariance',
        'gaussianSigma',
        'latentDim',
        'beta',
        'capacity',
        'posterior',
        'flowLength',
      ].sort(),
    );
    expect(model('ladder')).toMatchObject({ kind: 'ladder', ladderLatentDims: [8, 4], beta: 2 });
    expect('latentDim' in model('ladder')).toBe(false);
    expect(model('tc')).toMatchObject({ kind: 'beta-tcvae', alpha: 1, beta: 6, gamma: 2, latentDim: 10 });
    expect('posterior' in model('tc')).toBe(false);
    expect(model('vq')).toMatchObject({
      kind: 'vq-vae',
      codebookSize: 64,
      codeDim: 8,
      codePositions: 4,
      emaDecay: 0.9,
    });
    expect(['latentDim', 'beta', 'posterior'].some((k) => k in model('vq'))).toBe(false);
    expect(model('older')).toMatchObject({ latentDim: 5, posterior: 'gaussian', flowLength: 4 });
    expect(v7.runs.get('older')!.config.train).toMatchObject({ freeBits: 0.5, freeBitsPer: 'layer' });
    // Its split followed train.seed (0 here, as flatConfig's) and it was not dequantized.
    expect(v7.runs.get('older')!.config.data).toMatchObject({ splitSeed: 0, dequantize: false });
    // Every migrated config is already what today's schema makes of it: parsing changes nothing.
    for (const id of [...Object.keys(stored), 'older']) {
      const config = v7.runs.get(id)!.config;
      expect(parseRunConfig(config)).toEqual(config);
    }
    // The rest of the record is untouched.
    expect(v7.runs.get('vae')!.config.data).toEqual(stored.vae.data);
  });

  it('a bundle’s config.json from before later fields gets what its run trained with', () => {
    const recorded = flatConfig({ latentDim: 5 }, { seed: 7, freeBits: 0.5 }) as Record<
      string,
      Record<string, unknown>
    >;
    delete recorded.train.freeBitsPer;
    delete recorded.data.splitSeed;
    delete recorded.data.dequantize;
    const config = parseRecordedRunConfig(recorded);
    expect([config.data.splitSeed, config.data.dequantize, config.train.freeBitsPer]).toEqual([7, false, 'layer']);
    // A config typed today (CLI, form) takes today's defaults instead.
    const typed = parseRunConfig({ train: { seed: 7, freeBits: 0.5 } });
    expect([typed.data.splitSeed, typed.train.freeBitsPer]).toEqual([0, 'dimension']);
  });

  it('a flat config given to parseRunConfig (an old bundle or config file) loads as its kind’s config', () => {
    const flat = flatConfig({ kind: 'vq-vae', codebookSize: 64 });
    const parsed = parseRunConfig(flat);
    expect(parsed.model).toMatchObject({ kind: 'vq-vae', codebookSize: 64 });
    expect('latentDim' in parsed.model).toBe(false);
    // A field of another kind away from its old default was never allowed, and is still refused, by name.
    expect(() => parseRunConfig(flatConfig({ kind: 'vq-vae', latentDim: 8 }))).toThrow(
      /model\.latentDim: a VQ-VAE's latent is model\.codePositions x model\.codeDim/,
    );
    expect(() => parseRunConfig({ model: { kind: 'vae', codebookSize: 64 } })).toThrow(
      /model\.codebookSize: applies only to model\.kind 'vq-vae' \(this is 'vae'\)/,
    );
  });
});
