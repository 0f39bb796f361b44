// The `vae-workbench` CLI as a user runs it: a real child process on a real data folder.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunDetail, RunSummary } from '../../../src-main/api/contract';
import { Workbench } from '../../../src-main/workbench/service';
import { modelOfKind } from '../../../src-main/api/modelReads';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'vae-workbench.js');
const tiny = [
  '--dataset',
  'mnist',
  '--train-size',
  '256',
  '--test-size',
  '32',
  '--batch-size',
  '32',
  '--hidden',
  '32',
  '--latent-dim',
  '3',
  '--iwae-k',
  '4',
  '--iwae-examples',
  '8',
  '--grid-size',
  '4',
  '--backend',
  'wasm',
];

function cli(db: string, args: string[]) {
  const result = spawnSync(process.execPath, [BIN, '--db', db, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('vae-workbench CLI', () => {
  it('train, runs --json, show --json and delete work on one data folder', () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-cli-'));
    const trained = cli(db, [
      'train',
      ...tiny,
      '--epochs',
      '2',
      '--model',
      'beta-vae',
      '--beta',
      '4',
      '--experiment',
      'betas',
      '--tag',
      'smoke',
      '--seed',
      '3',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const run = JSON.parse(trained.stdout) as RunSummary;
    expect(run.status).toBe('completed');
    expect(modelOfKind(run.config.model, 'beta-vae').beta).toBe(4);

    const listed = cli(db, ['runs', '--json']);
    const runs = JSON.parse(listed.stdout) as RunSummary[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: run.id, status: 'completed', experiment: 'betas', tags: ['smoke'], seed: 3 });
    expect(runs[0].final['test/elbo']).toBeLessThan(0);
    expect(runs[0].final['test/iwae']).toBeLessThan(0);

    const shown = JSON.parse(cli(db, ['show', run.id, '--json']).stdout) as RunDetail;
    expect(shown.metricNames).toContain('train/kl_weight');
    expect(shown.config.train.epochs).toBe(2);
    const sqlite = new Database(join(db, 'workbench.sqlite'), { readonly: true });
    expect(
      sqlite
        .prepare("SELECT value FROM metric_points WHERE run_id = ? AND name = 'train/kl_weight' LIMIT 1")
        .pluck()
        .get(run.id),
    ).toBe(4);
    sqlite.close();

    expect(cli(db, ['delete', run.id]).code).toBe(0);
    expect(JSON.parse(cli(db, ['runs', '--json']).stdout)).toEqual([]);
  });

  it("show prints the run's backend notes: why 'auto' chose its backend, as the trainer said at the start", () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-cli-'));
    const trained = cli(db, ['train', ...tiny, '--epochs', '1', '--backend', 'auto', '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const run = JSON.parse(trained.stdout) as RunSummary;
    const shown = JSON.parse(cli(db, ['show', run.id, '--json']).stdout) as RunDetail;
    // 'auto' tries webgpu first: with no hardware adapter it says why it left it out, with one the
    // calibration's figures; either way the first note is about webgpu.
    expect(shown.backendNotes.length).toBeGreaterThan(0);
    expect(shown.backendNotes[0]).toMatch(/^webgpu /);
    expect(shown.backendNotes).toEqual(run.backendNotes);
    const sqlite = new Database(join(db, 'workbench.sqlite'), { readonly: true });
    expect(sqlite.prepare('SELECT backend_notes FROM runs WHERE id = ?').pluck().get(run.id)).toBe(
      JSON.stringify(shown.backendNotes),
    );
    sqlite.close();
    const text = cli(db, ['show', run.id]).stdout;
    for (const note of shown.backendNotes) expect(text).toContain(`backend note: ${note}`);
  });

  it('refuses a bad option with exit code 2, naming the field and the allowed range, and stores nothing', () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-cli-'));
    const bad = cli(db, ['train', ...tiny, '--latent-dim', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/model\.latentDim: .*>=1/);
    const notNumber = cli(db, ['train', ...tiny, '--epochs', 'many']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toMatch(/train\.epochs/);
    expect(cli(db, ['train', '--model', 'gan']).stderr).toMatch(/Allowed choices are vae, beta-vae, ladder/);
    expect(JSON.parse(cli(db, ['runs', '--json']).stdout)).toEqual([]);
  });

  it('exits non-zero when the run diverges, with the step in the message', () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-cli-'));
    const diverged = cli(db, ['train', ...tiny, '--epochs', '1', '--lr', '1', '--binarization', 'none']);
    expect(diverged.code).toBe(1);
    expect(diverged.stdout).toMatch(/diverged: Loss became NaN or infinite at step \d+/);
  });

  it('Ctrl-C pauses the run with a checkpoint at its last step and exits 130', async () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-sigint-'));
    const child = spawn(process.execPath, [BIN, '--db', db, 'train', ...tiny, '--epochs', '40'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve) => {
      const check = () => (/epoch 1:/.test(output) ? resolve() : setTimeout(check, 100));
      check();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output).toMatch(/Pausing run [0-9a-f]{8}/);
    const runs = JSON.parse(cli(db, ['runs', '--json']).stdout) as RunSummary[];
    expect(runs[0].status).toBe('paused');
    const detail = JSON.parse(cli(db, ['show', runs[0].id, '--json']).stdout) as RunDetail;
    expect(detail.checkpoints.at(-1)!.step).toBe(runs[0].step);
    expect(runs[0].step).toBeGreaterThanOrEqual(8);
  });

  it('kill -9 mid-training leaves an intact database that lost at most the last second, and the run resumes as interrupted', async () => {
    const db = mkdtempSync(join(tmpdir(), 'vaewb-kill-'));
    const child = spawn(process.execPath, [BIN, '--db', db, 'train', ...tiny, '--epochs', '40'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    const file = join(db, 'workbench.sqlite');
    // Wait until training has written a good number of steps.
    let steps = 0;
    for (let i = 0; i < 600 && steps < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      try {
        const peek = new Database(file, { readonly: true, fileMustExist: true });
        steps =
          (peek.prepare("SELECT max(step) FROM metric_points WHERE name = 'train/loss'").pluck().get() as
            number | null) ?? 0;
        peek.close();
      } catch {
        steps = 0;
      }
    }
    expect(steps).toBeGreaterThanOrEqual(40);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;

    const after = new Database(file);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    const { status, id } = after.prepare('SELECT status, id FROM runs').get() as { status: string; id: string };
    expect(status).toBe('running');
    const lastWall = after.prepare('SELECT max(wall_time) FROM metric_points').pluck().get() as number;
    after.close();
    // Metrics are committed every 250 ms: what was lost is under a second of training.
    expect(killedAt - lastWall).toBeLessThan(1000);

    const service = await Workbench.open({ db, runQueue: false });
    try {
      const run = await service.getRun({ runId: id });
      expect(run.status).toBe('interrupted');
      expect(run.error).toMatch(/process .* is gone/);
    } finally {
      await service.close();
    }
    const resumed = cli(db, ['resume', id, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const finished = JSON.parse(resumed.stdout) as RunSummary;
    expect(finished.status).toBe('completed');
    expect(finished.step).toBe(320);
  });
});
