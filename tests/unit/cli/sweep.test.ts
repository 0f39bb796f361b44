// Grid sweeps: the plan (every combination, validated before anything is created), the service
// method behind the form, and `vae-workbench sweep` as a user runs it.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '../../../src-main/api/config';
import type { RunSummary } from '../../../src-main/api/contract';
import { parseGridFlag } from '../../../src-main/cli/sweep';
import { Workbench } from '../../../src-main/workbench/service';
import { gridCombinations, gridSize, planGrid } from '../../../src-main/workbench/sweep';
import { klBetaOf } from '../../../src-main/api/modelReads';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'vae-workbench.js');

describe('grid plan', () => {
  it('makes every combination, the first parameter varying slowest', () => {
    const grid = [
      { param: 'model.beta', values: [1, 4, 16] },
      { param: 'train.seed', values: [0, 1, 1] },
    ];
    expect(gridSize(grid)).toBe(6);
    expect(gridCombinations(grid).map((c) => `${c['model.beta']}/${c['train.seed']}`)).toEqual([
      '1/0',
      '1/1',
      '4/0',
      '4/1',
      '16/0',
      '16/1',
    ]);
    const planned = planGrid(parseRunConfig({}), 'g', grid, parseRunConfig);
    expect(planned.map((p) => p.name)[5]).toBe('g model.beta=16 train.seed=1');
    expect(planned.map((p) => p.config.model.kind)).toEqual([
      'vae',
      'vae',
      'beta-vae',
      'beta-vae',
      'beta-vae',
      'beta-vae',
    ]);
    expect(planned[3].config.train.seed).toBe(1);
  });

  it('refuses unknown or non-scalar keys, repeated keys, invalid members and oversized grids', () => {
    const base = parseRunConfig({});
    expect(() => planGrid(base, 'g', [{ param: 'model.betta', values: [1] }], parseRunConfig)).toThrow(
      /not a scalar config key/,
    );
    expect(() => planGrid(base, 'g', [{ param: 'model.hidden', values: [1] }], parseRunConfig)).toThrow(/not a scalar/);
    // A field another kind has: refused by name even at the old flat default (it used to run without it).
    const ladder = parseRunConfig({ model: { kind: 'ladder' } });
    expect(() => planGrid(ladder, 'g', [{ param: 'model.latentDim', values: [20] }], parseRunConfig)).toThrow(
      /model.latentDim: a ladder's latent sizes are model.ladderLatentDims/,
    );
    expect(() => planGrid(base, 'g', [{ param: 'model.codebookSize', values: [512] }], parseRunConfig)).toThrow(
      /model.codebookSize: applies only to model.kind 'vq-vae' \(this is 'vae'\)/,
    );
    expect(() =>
      planGrid(
        base,
        'g',
        [
          { param: 'train.seed', values: [1] },
          { param: 'train.seed', values: [2] },
        ],
        parseRunConfig,
      ),
    ).toThrow(/listed twice/);
    expect(() => planGrid(base, 'g', [{ param: 'model.latentDim', values: [2, 1000] }], parseRunConfig)).toThrow(
      /Grid sweep run model.latentDim=1000: .*latentDim/,
    );
    const big = [
      { param: 'train.seed', values: Array.from({ length: 20 }, (_, i) => i) },
      { param: 'model.latentDim', values: Array.from({ length: 20 }, (_, i) => i + 1) },
    ];
    expect(() => planGrid(base, 'g', big, parseRunConfig)).toThrow(/400 runs is more than the 256/);
  });

  it('parses --grid flags into numbers, booleans and strings', () => {
    expect(parseGridFlag('model.beta=1,4,16')).toEqual({ param: 'model.beta', values: [1, 4, 16] });
    expect(parseGridFlag('train.lr=1e-3, 3e-4')).toEqual({ param: 'train.lr', values: [1e-3, 3e-4] });
    expect(parseGridFlag('model.activation=relu,tanh')).toEqual({
      param: 'model.activation',
      values: ['relu', 'tanh'],
    });
    expect(() => parseGridFlag('beta=1')).toThrow(/config key/);
    expect(() => parseGridFlag('model.beta=')).toThrow(/no values/);
  });
});

describe('createGridSweep', () => {
  it('creates one queued run per combination with the experiment and tags on every run, or none when one is invalid', async () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-grid-'));
    const workbench = await Workbench.open({ db, runQueue: false });
    try {
      const runs = await workbench.createGridSweep({
        config: {},
        experiment: 'grid',
        grid: [
          { param: 'model.beta', values: [1, 4] },
          { param: 'train.seed', values: [0, 1, 2] },
        ],
        tags: ['study', 'fmnist'],
      });
      expect(runs).toHaveLength(6);
      expect(runs.every((r) => r.experiment === 'grid' && [...r.tags].sort().join() === 'fmnist,study')).toBe(true);
      expect(runs.map((r) => r.name)).toContain('grid model.beta=4 train.seed=2');
      await expect(
        workbench.dispatch('createGridSweep', {
          config: {},
          experiment: 'bad',
          grid: [{ param: 'model.latentDim', values: [4, 0] }],
        }),
      ).rejects.toThrow(/model.latentDim=0/);
      expect((await workbench.listRuns()).length).toBe(6);
    } finally {
      await workbench.close();
    }
  });
});

describe('vae-workbench sweep', () => {
  const tiny = [
    '--dataset',
    'mnist',
    '--train-size',
    '128',
    '--test-size',
    '16',
    '--batch-size',
    '32',
    '--hidden',
    '16',
  ];
  const more = ['--latent-dim', '2', '--iwae-k', '2', '--iwae-examples', '4', '--grid-size', '4', '--backend', 'wasm'];
  const run = (db: string, args: string[]) =>
    spawnSync(process.execPath, [BIN, '--db', db, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });

  it('says how many runs before starting, trains them all, tags and experiment on each', () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-cli-sweep-'));
    const grid = ['--grid', 'model.beta=1,4', '--grid', 'train.seed=0,1'];
    const dry = run(db, ['sweep', ...grid, '--experiment', 'g', ...tiny, ...more, '--epochs', '1', '--dry-run']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^Sweep "g": 4 runs \(model.beta x 2, train.seed x 2/);
    const list = () => JSON.parse(run(db, ['runs', '--json']).stdout) as RunSummary[];
    expect(list()).toHaveLength(0);

    const done = run(db, [
      'sweep',
      ...grid,
      '--experiment',
      'g',
      '--tag',
      'cli',
      ...tiny,
      ...more,
      '--epochs',
      '1',
      '--parallel',
      '2',
    ]);
    expect(done.status, done.stderr + done.stdout).toBe(0);
    expect(done.stdout.split('\n')[0]).toMatch(/4 runs/);
    const runs = list();
    expect(runs).toHaveLength(4);
    expect(runs.every((r) => r.status === 'completed' && r.experiment === 'g' && r.tags.join() === 'cli')).toBe(true);
    expect(new Set(runs.map((r) => `${klBetaOf(r.config.model)}/${r.config.train.seed}`))).toEqual(
      new Set(['1/0', '1/1', '4/0', '4/1']),
    );

    const bad = run(db, ['sweep', '--grid', 'model.nope=1', '--experiment', 'g', ...tiny, ...more]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/model.nope is not a scalar config key/);
  });
});
