// The model variants from the CLI, as a user runs them: `train --model vq-vae | beta-tcvae` and
// `--posterior planar | iaf --flow-length K` on a tiny MNIST subset, then export, import into
// another data folder, generate from the imported run, and replay to the last bit.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import Database from 'better-sqlite3';
import type { RunSummary } from '../../../src-main/api/contract';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'vaewb-variants-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'vae-workbench.js'), ...args],
      { cwd: temp, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const tiny = [
  ...['--dataset', 'mnist', '--train-size', '128', '--test-size', '16', '--batch-size', '64', '--epochs', '1'],
  ...['--hidden', '16', '--iwae-k', '2', '--iwae-examples', '4', '--grid-size', '4', '--backend', 'wasm'],
];

/** The last value of each of the run's metrics, from the data folder's database (the CLI lists headline metrics only). */
function lastValues(db: string, runId: string): Record<string, number> {
  const sqlite = new Database(join(db, 'workbench.sqlite'), { readonly: true });
  try {
    const rows = sqlite
      .prepare('SELECT name, last_value AS value FROM metric_series WHERE run_id = ? AND point_count > 0')
      .all(runId) as { name: string; value: number }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  } finally {
    sqlite.close();
  }
}

const variants: [string, string[], (run: RunSummary, final: Record<string, number>) => void][] = [
  [
    'vq-vae',
    [
      '--model',
      'vq-vae',
      '--codebook-size',
      '16',
      '--code-dim',
      '4',
      '--code-positions',
      '4',
      '--dead-code-steps',
      '1',
    ],
    (run, final) => {
      expect(run.config.model).toMatchObject({ kind: 'vq-vae', codebookSize: 16, codeDim: 4 });
      expect(final['test/perplexity']).toBeGreaterThan(1);
      expect(final['test/codes_used']).toBeGreaterThan(0);
    },
  ],
  [
    'beta-tcvae',
    ['--model', 'beta-tcvae', '--latent-dim', '3', '--alpha', '1', '--beta', '6', '--gamma', '1'],
    (run, final) => {
      expect(run.config.model).toMatchObject({ kind: 'beta-tcvae', alpha: 1, beta: 6, gamma: 1 });
      expect(Number.isFinite(final['test/tc'])).toBe(true);
    },
  ],
  [
    'planar',
    ['--posterior', 'planar', '--flow-length', '2', '--latent-dim', '3'],
    (run, final) => {
      expect(run.config.model).toMatchObject({ kind: 'vae', posterior: 'planar', flowLength: 2 });
      expect(Number.isFinite(final['test/flow_logdet/1'])).toBe(true);
    },
  ],
  [
    'iaf',
    ['--posterior', 'iaf', '--flow-length', '2', '--latent-dim', '3'],
    (run, final) => {
      expect(run.config.model).toMatchObject({ kind: 'vae', posterior: 'iaf', flowLength: 2 });
      expect(Number.isFinite(final['test/flow_logdet/0'])).toBe(true);
    },
  ],
];

describe('vae-workbench train with the model variants', () => {
  for (const [label, flags, check] of variants) {
    it(`${label}: trains, exports, imports, generates, and replays identically`, async () => {
      const source = join(temp, `${label}-source`);
      const target = join(temp, `${label}-target`);
      const trained = await cli('--db', source, 'train', ...tiny, ...flags, '--json');
      expect(trained.code, trained.stderr).toBe(0);
      const run = JSON.parse(trained.stdout) as RunSummary;
      expect(run.status).toBe('completed');
      expect(run.final['test/elbo']).toBeLessThan(0);
      check(run, lastValues(source, run.id));

      const exported = await cli('--db', source, 'export', run.id, '--out', `${label}.zip`, '--json');
      expect(exported.code, exported.stderr).toBe(0);
      const imported = await cli('--db', target, 'import', `${label}.zip`, '--json');
      expect(imported.code, imported.stderr).toBe(0);
      const importedRun = JSON.parse(imported.stdout).run as RunSummary;
      expect(importedRun.config).toEqual(run.config);
      const generated = await cli('--db', target, 'generate', importedRun.id, '--count', '4', '--out', `${label}.png`);
      expect(generated.code, generated.stderr).toBe(0);
      const png = decodePng(readFileSync(join(temp, `${label}.png`)));
      expect([png.width, png.height]).toEqual([2 * 28 + 1, 2 * 28 + 1]);

      const replay = await cli('--db', source, 'replay', run.id, '--strict', '--json');
      expect(replay.code, replay.stderr).toBe(0);
      const { comparison } = JSON.parse(replay.stdout);
      expect(comparison.identical).toBe(true);
      for (const m of comparison.metrics) if (!m.timing) expect(m.maxAbsDiff, m.metric).toBe(0);
    }, 240_000);
  }
});
