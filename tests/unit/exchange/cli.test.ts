// The CLI commands export, import, generate and replay, run as a user runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import { Workbench } from '../../../src-main/workbench/service';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'vaewb-exchange-cli-'));
const source = join(temp, 'source');
let runId = '';

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'vae-workbench.js'), ...args],
      { cwd: temp, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  const w = await Workbench.open({ db: source, runQueue: false });
  try {
    const run = await w.createRun(
      {
        config: {
          model: { hidden: [16], latentDim: 2 },
          data: { dataset: 'mnist', trainSize: 128, testSize: 16 },
          train: { epochs: 2, batchSize: 64, seed: 3, backend: 'wasm' },
          eval: { iwaeK: 2, iwaeExamples: 4, gridSize: 4 },
        },
      },
      { startHere: true },
    );
    runId = (await w.waitForRun(run.id)).id;
  } finally {
    await w.close();
  }
});

afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('vae-workbench export / import / generate / replay', () => {
  it('exports a chosen checkpoint, imports it, generates from it, and refuses a damaged copy', async () => {
    const exported = await cli('--db', source, 'export', runId, '--checkpoint', '2', '--out', 'run.zip', '--json');
    expect(exported.stderr).toBe('');
    expect(JSON.parse(exported.stdout)).toMatchObject({
      format: 'zip',
      checkpointStep: 2,
      runId,
      path: join(temp, 'run.zip'),
    });

    const imported = await cli('--db', join(temp, 'target'), 'import', 'run.zip', '--json');
    expect(imported.code).toBe(0);
    const result = JSON.parse(imported.stdout);
    expect(result).toMatchObject({ sourceRunId: runId, run: { status: 'completed', step: 4 } });

    const generated = await cli(
      '--db',
      join(temp, 'target'),
      'generate',
      result.run.id,
      '--count',
      '9',
      '--out',
      'nine.png',
      '--json',
    );
    expect(generated.code).toBe(0);
    expect(JSON.parse(generated.stdout)).toMatchObject({ count: 9, checkpointStep: 2, path: join(temp, 'nine.png') });
    const png = decodePng(readFileSync(join(temp, 'nine.png')));
    expect([png.width, png.height]).toEqual([3 * 28 + 2, 3 * 28 + 2]);

    const bytes = readFileSync(join(temp, 'run.zip'));
    bytes[Math.floor(bytes.length / 3)] ^= 0xff;
    writeFileSync(join(temp, 'bad.zip'), bytes);
    const refused = await cli('--db', join(temp, 'target'), 'import', 'bad.zip');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Bundle refused, nothing was imported/);
    const target = await Workbench.open({ db: join(temp, 'target'), runQueue: false });
    try {
      expect(await target.listRuns()).toHaveLength(1);
    } finally {
      await target.close();
    }
  });

  it('replays a run and reports it identical to the last bit', async () => {
    const replay = await cli('--db', source, 'replay', runId, '--strict', '--json');
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const { run, plan, comparison } = JSON.parse(replay.stdout);
    expect(run).toMatchObject({ status: 'completed', replayOf: runId });
    expect(plan.warnings).toEqual([]);
    expect(comparison.identical).toBe(true);
  });
});
