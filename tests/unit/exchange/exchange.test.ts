// Export, import, replay and generation against a real store and real (tiny) training runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decode as decodePng } from 'fast-png';
import type { RunConfigInput } from '../../../src-main/api/config';
import { ApiError, type RunSummary } from '../../../src-main/api/contract';
import { decodeCheckpoint } from '../../../src-main/training/checkpoint';
import { Workbench } from '../../../src-main/workbench/service';
import { modelFromCheckpoint, ensureBackend, filesIOHandler } from '../../../src-main/training/checkpointModel';
import { writeBigBundle } from '../../helpers/bigBundle';
import { sealBundle, zipBundle, type BundleFiles } from '../../helpers/bundleFiles';
import type { BundleManifest } from '../../../src-main/workbench/exchange/bundle';
import { loadRunDataset } from '../../../src-main/training/runData';

const config: RunConfigInput = {
  model: { hidden: [32], latentDim: 3 },
  data: { dataset: 'mnist', trainSize: 256, testSize: 32, binarization: 'dynamic' },
  train: { epochs: 2, batchSize: 64, lr: 3e-3, seed: 7, backend: 'wasm' },
  eval: { iwaeK: 4, iwaeExamples: 8, gridSize: 4 },
};

const temp = mkdtempSync(join(tmpdir(), 'vaewb-exchange-'));
const open: Workbench[] = [];
async function workbench(name: string): Promise<Workbench> {
  const w = await Workbench.open({ db: join(temp, name), runQueue: false, backend: 'wasm', heartbeatMs: 200 });
  open.push(w);
  return w;
}

let source: Workbench;
let original: RunSummary;

beforeAll(async () => {
  source = await workbench('source');
  const created = await source.createRun(
    { config, name: 'exchange original', tags: ['x'], experiment: 'exchange' },
    { startHere: true },
  );
  original = await source.waitForRun(created.id);
  await source.setNotes({ runId: original.id, text: 'a note' });
  await ensureBackend('wasm');
});

afterAll(async () => {
  for (const w of open.splice(0)) await w.close();
  rmSync(temp, { recursive: true, force: true });
});

async function allPoints(w: Workbench, runId: string) {
  const names = await w.store.metrics.listMetricNames(runId);
  return Promise.all(names.map(async (name) => ({ name, points: await w.store.metrics.readSeriesRaw(runId, name) })));
}
async function allImages(w: Workbench, runId: string) {
  const images = [];
  for (const meta of await w.store.images.list(runId)) {
    const image = (await w.store.images.get(meta.id))!;
    images.push({
      kind: meta.kind,
      step: meta.step,
      epoch: meta.epoch,
      width: meta.width,
      height: meta.height,
      png: Buffer.from(image.png).toString('base64'),
    });
  }
  return images;
}
/** Decoder means of the run's latest checkpoint for fixed latents, in this process. */
async function decoderOutputs(w: Workbench, runId: string, z: Float32Array) {
  const run = await w.store.runs.require(runId);
  const checkpoint = (await w.store.checkpoints.latest(runId))!;
  const model = modelFromCheckpoint(
    run.config,
    [28, 28, 1],
    decodeCheckpoint(new Uint8Array(readFileSync(checkpoint.path))),
  );
  try {
    return tf.tidy(() => Array.from(model.decode(tf.tensor2d(z, [z.length / 3, 3])).dataSync()));
  } finally {
    model.dispose();
  }
}
const fixedZ = Float32Array.from({ length: 5 * 3 }, (_, i) => Math.sin(i * 1.7) * 1.5);
async function snapshotDb(w: Workbench) {
  return {
    runs: (await w.store.runs.list()).map((r) => r.id).sort(),
    checkpointFiles: existsSync(w.paths.checkpointsDir)
      ? readdirSync(w.paths.checkpointsDir, { recursive: true }).map(String).sort()
      : [],
  };
}

/** A copy of a bundle folder as a sealed zip (good hashes) with one file's text replaced. */
async function rewriteBundleFile(folder: string, out: string, name: string, text: string): Promise<void> {
  const files: BundleFiles = new Map();
  for (const path of readdirSync(folder, { recursive: true }).map(String))
    if (!statSync(join(folder, path)).isDirectory())
      files.set(path.split('\\').join('/'), new Uint8Array(readFileSync(join(folder, path))));
  files.set(name, Buffer.from(text, 'utf8'));
  const { files: _files, ...manifest } = JSON.parse(
    readFileSync(join(folder, 'manifest.json'), 'utf8'),
  ) as BundleManifest;
  sealBundle(files, manifest);
  writeFileSync(`${out}.zip`, zipBundle(files));
}

describe('export and import', () => {
  it('re-imports into an empty database with the same metrics, images and decoder outputs', async () => {
    expect(original.status).toBe('completed');
    const out = join(temp, 'bundle.zip');
    const exported = await source.exportRun({ runId: original.id, out });
    expect(exported.format).toBe('zip');
    expect(exported.checkpointStep).toBe(8);
    const paths = exported.files.map((f) => f.path);
    for (const expected of [
      'config.json',
      'run.json',
      'metrics.csv',
      'checkpoint.safetensors',
      'tfjs/encoder/model.json',
      'tfjs/encoder/group1-shard1of1.bin',
      'tfjs/decoder/model.json',
      'tfjs/decoder/group1-shard1of1.bin',
      'images/samples-step00000008.png',
    ]) {
      expect(paths).toContain(expected);
    }

    const target = await workbench('target');
    const imported = await target.importBundle({ path: out });
    expect(imported.sourceRunId).toBe(original.id);
    expect(imported.warnings).toEqual([]);
    const run = imported.run;
    expect(run.id).not.toBe('');
    expect(run).toMatchObject({
      status: 'completed',
      name: 'exchange original',
      experiment: 'exchange',
      tags: ['x'],
      backend: original.backend,
      datasetHash: original.datasetHash,
      step: 8,
      seed: 7,
    });
    expect(run.config).toEqual(original.config);
    expect(run.final).toEqual(original.final);
    expect((await target.getRun({ runId: run.id })).notes).toMatch(/^a note\n\nImported .* from run /);

    expect(await allPoints(target, run.id)).toEqual(await allPoints(source, original.id));
    expect(await allImages(target, run.id)).toEqual(await allImages(source, original.id));
    expect(await decoderOutputs(target, run.id, fixedZ)).toEqual(await decoderOutputs(source, original.id, fixedZ));

    // Playback on the imported run: the grids as they were at the first evaluation.
    const atFirst = await target.imagesAtStep({ runId: run.id, step: 5 });
    expect(atFirst.map((i) => [i.kind, i.step])).toEqual([
      ['reconstructions', 4],
      ['samples', 4],
      ['samples-drawn', 4],
      ['traversal', 4],
    ]);
  });

  it('writes a folder whose decoder loads with tf.loadLayersModel and matches the workbench for the same z', async () => {
    const out = join(temp, 'bundle-folder');
    const exported = await source.exportRun({ runId: original.id, out, checkpoint: 'best' });
    expect(exported.format).toBe('folder');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'vae-workbench-bundle',
      formatVersion: 1,
      appVersion: original.appVersion,
      dataset: { name: 'mnist', hash: original.datasetHash },
      backend: original.backend,
      inputShape: [28, 28, 1],
    });
    const modelJson = JSON.parse(readFileSync(join(out, 'tfjs/decoder/model.json'), 'utf8'));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest[0].paths).toEqual(['group1-shard1of1.bin']);

    // Through a file IO handler (what the browser's and tfjs-node's loaders do) and through fromMemory.
    const decoderDir = join(out, 'tfjs', 'decoder');
    const fromFiles = await tf.loadLayersModel(
      filesIOHandler((name) => new Uint8Array(readFileSync(join(decoderDir, name)))),
    );
    const shard = readFileSync(join(decoderDir, 'group1-shard1of1.bin'));
    const fromMemory = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength),
      }),
    );
    const checkpoint = (await source.store.checkpoints.list(original.id)).find(
      (c) => c.step === exported.checkpointStep,
    )!;
    const model = modelFromCheckpoint(
      (await source.store.runs.require(original.id)).config,
      [28, 28, 1],
      decodeCheckpoint(new Uint8Array(readFileSync(checkpoint.path))),
    );
    try {
      const z = tf.tensor2d(fixedZ, [5, 3]);
      const expectedRaw = (model.networks().decoder.predict(z) as tf.Tensor).dataSync();
      const expectedMean = model.decode(z).dataSync();
      for (const loaded of [fromFiles, fromMemory]) {
        const logits = loaded.predict(z) as tf.Tensor;
        expect(Array.from(logits.dataSync())).toEqual(Array.from(expectedRaw));
        expect(Array.from(tf.sigmoid(logits).dataSync())).toEqual(Array.from(expectedMean));
      }
    } finally {
      model.dispose();
      fromFiles.dispose();
      fromMemory.dispose();
    }
  });

  it("carries the run's backend notes through a bundle; a bundle without them imports with none", async () => {
    const notes = [
      'webgpu skipped: no GPU driver found (no Vulkan ICD but software ones)',
      'webgpu slower in calibration: webgpu 41.2 ms/step, wasm+native-sgemm 3.9 ms/step',
    ];
    await source.store.runs.setInfo(original.id, { backendNotes: notes });
    const out = join(temp, 'notes.zip');
    await source.exportRun({ runId: original.id, out });
    const target = await workbench('notes-target');
    const imported = await target.importBundle({ path: out });
    expect(imported.run.backendNotes).toEqual(notes);
    expect((await target.getRun({ runId: imported.run.id })).backendNotes).toEqual(notes);

    // A bundle written before the notes were stored: its run.json has no backendNotes.
    const old = await writeBigBundle(mkdtempSync(join(temp, 'old-')), 1, 'old.zip');
    const oldImport = await target.importBundle({ path: old.path });
    expect(oldImport.run.name).toBe('big bundle 1 MB');
    expect(oldImport.run.backendNotes).toEqual([]);
  });

  it("carries the latent scatter's means and labels of every evaluation through a bundle, to the bit", async () => {
    const steps = await source.store.latents.steps(original.id);
    expect(steps.map((s) => s.step)).toEqual([4, 8]);
    const out = join(temp, 'latents-bundle');
    const exported = await source.exportRun({ runId: original.id, out });
    expect(exported.files.map((f) => f.path).filter((p) => p.startsWith('latents/'))).toEqual([
      'latents/step00000004-labels.i32',
      'latents/step00000004-means.f32',
      'latents/step00000008-labels.i32',
      'latents/step00000008-means.f32',
    ]);
    const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { latents: unknown[] };
    expect(record.latents).toEqual([
      {
        step: 4,
        epoch: 0,
        count: 32,
        dims: 3,
        means: 'latents/step00000004-means.f32',
        labels: 'latents/step00000004-labels.i32',
      },
      {
        step: 8,
        epoch: 1,
        count: 32,
        dims: 3,
        means: 'latents/step00000008-means.f32',
        labels: 'latents/step00000008-labels.i32',
      },
    ]);

    const target = await workbench('latents-target');
    const imported = (await target.importBundle({ path: out })).run;
    expect(await target.store.latents.steps(imported.id)).toEqual(steps);
    for (const { step } of steps) {
      const a = (await source.store.latents.get(original.id, step))!;
      const b = (await target.store.latents.get(imported.id, step))!;
      expect({ ...b, runId: a.runId }).toEqual(a);
      expect(Buffer.from(b.means.buffer).equals(Buffer.from(a.means.buffer))).toBe(true);
    }
    // The imported run's scatter answers as the original's.
    const { runId: _a, ...fromSource } = await source.getLatents({ runId: original.id });
    const { runId: _b, ...fromTarget } = await target.getLatents({ runId: imported.id });
    expect(fromTarget).toEqual(fromSource);

    // A bundle from before latents were carried imports with none.
    const old = await writeBigBundle(mkdtempSync(join(temp, 'old-latents-')), 1, 'old.zip');
    const oldRun = (await target.importBundle({ path: old.path })).run;
    expect(await target.store.latents.steps(oldRun.id)).toEqual([]);
  });

  it('refuses a bundle whose latents do not match the sizes run.json gives them, and writes nothing', async () => {
    const folder = join(temp, 'latents-bundle');
    const target = await workbench('latents-refusals');
    const runJson = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as {
      latents: { dims: number }[];
    };
    runJson.latents[1].dims = 4;
    const bad = join(temp, 'latents-bad');
    await rewriteBundleFile(folder, bad, 'run.json', `${JSON.stringify(runJson, null, 2)}\n`);
    await expect(target.importBundle({ path: `${bad}.zip` })).rejects.toThrow(
      /run\.json: latents\.1\.means: latents\/step00000008-means\.f32 is 384 bytes, 32 x 4 values need 512/,
    );
    expect(await target.store.runs.list()).toHaveLength(0);
  });

  it('refuses a bundle with one flipped byte, a truncated one and a foreign one, and writes nothing', async () => {
    const bundle = readFileSync(join(temp, 'bundle.zip'));
    const target = await workbench('refusals');
    const before = await snapshotDb(target);
    const cases: [string, Uint8Array][] = [];
    for (const at of [0, 100, Math.floor(bundle.length / 2), bundle.length - 30, bundle.length - 1]) {
      const flipped = new Uint8Array(bundle);
      flipped[at] ^= 0x01;
      cases.push([`flipped-${at}.zip`, flipped]);
    }
    cases.push(['truncated.zip', bundle.subarray(0, bundle.length - 1000)]);
    cases.push(['foreign.zip', new Uint8Array(Buffer.from('PK\x03\x04 this is not a bundle at all'))]);
    for (const [name, bytes] of cases) {
      const path = join(temp, name);
      writeFileSync(path, bytes);
      const error = await target.importBundle({ path }).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(ApiError);
      expect((error as ApiError).message, name).toMatch(
        /Bundle refused, nothing was imported: .*(corrupt|truncated|checksum|not a)/,
      );
    }
    // A folder bundle with one byte changed in a shard.
    const folder = join(temp, 'bundle-folder');
    const shardPath = join(folder, 'tfjs/decoder/group1-shard1of1.bin');
    const shard = readFileSync(shardPath);
    shard[17] ^= 0x80;
    writeFileSync(shardPath, shard);
    await expect(target.importBundle({ path: folder })).rejects.toThrow(
      /tfjs\/decoder\/group1-shard1of1\.bin does not match its sha256/,
    );
    expect(await snapshotDb(target)).toEqual(before);
    expect(await target.store.runs.list()).toHaveLength(0);
  });
});

describe('continuing an imported run', () => {
  it('resumes an imported paused run from its checkpoint to the same curves as the uninterrupted original', async () => {
    // Pause after the first logged step, so the run resumes from a checkpoint mid-way (step > 0).
    let pausing: Promise<unknown> | null = null;
    let id = '';
    const stop = source.subscribe((event) => {
      if (event.type === 'metrics' && event.runId === id && !pausing) pausing = source.pauseRun({ runId: id });
    });
    const created = await source.createRun({ config, name: 'paused' }, { startHere: true });
    id = created.id;
    const paused = await source.waitForRun(created.id);
    stop();
    await pausing;
    expect(paused.status).toBe('paused');
    const checkpointStep = (await source.store.checkpoints.latest(created.id))!.step;
    expect(checkpointStep).toBeGreaterThan(0);
    expect(checkpointStep).toBeLessThan(8);
    const out = join(temp, 'paused.zip');
    await source.exportRun({ runId: created.id, out });
    const target = await workbench('resume-target');
    const imported = await target.importBundle({ path: out });
    expect(imported.run).toMatchObject({ status: 'paused', step: checkpointStep });
    await target.resumeRun({ runId: imported.run.id }, { startHere: true });
    const finished = await target.waitForRun(imported.run.id);
    expect(finished.status).toBe('completed');
    const model = async (w: Workbench, runId: string) =>
      (await allPoints(w, runId))
        .filter((s) => s.name !== 'train/samples_per_sec')
        .map(({ name, points }) => ({
          name,
          points: points.map(({ step, epoch, value }) => ({ step, epoch, value })),
        }));
    expect(await model(target, imported.run.id)).toEqual(await model(source, original.id));
  });
});

describe('generation', () => {
  it('draws prior samples and interpolates between two test images from a checkpoint', async () => {
    const samples = await source.generateSamples({ runId: original.id, count: 16 });
    expect(samples).toMatchObject({
      runId: original.id,
      checkpointStep: 8,
      count: 16,
      columns: 4,
      width: 4 * 28 + 3,
      height: 4 * 28 + 3,
    });
    const png = decodePng(Buffer.from(samples.dataUrl.split(',')[1], 'base64'));
    expect([png.width, png.height]).toEqual([115, 115]);
    // Same seed and count as the trainer's samples grid: the same picture (same backend).
    const stored = (await source.store.images.atOrBefore(original.id, 8)).find((i) => i.kind === 'samples')!;
    expect(Buffer.from(samples.dataUrl.split(',')[1], 'base64')).toEqual(
      Buffer.from((await source.store.images.get(stored.id))!.png),
    );

    const strip = await source.interpolateLatent({ runId: original.id, from: 0, to: 1, steps: 6, checkpoint: 4 });
    expect(strip).toMatchObject({ checkpointStep: 4, count: 8, columns: 8, width: 8 * 28 + 7, height: 28 });
    await expect(source.interpolateLatent({ runId: original.id, from: 0, to: 99 })).rejects.toThrow(
      /to must be a test image index from 0 to 31/,
    );
    await expect(source.generateSamples({ runId: original.id, checkpoint: 3 })).rejects.toThrow(
      /no checkpoint at step 3; it has 4, 8/,
    );
  });
});

describe('a checkpoint file changed or gone on disk', () => {
  it('is refused by export and generation, each reading it once to check its sha256', async () => {
    const checkpoint = (await source.store.checkpoints.latest(original.id))!;
    const good = readFileSync(checkpoint.path);
    const out = join(temp, 'damaged-export.zip');
    try {
      const damaged = Buffer.from(good);
      damaged[damaged.length - 1] ^= 0xff; // one weight bit: the header still parses
      writeFileSync(checkpoint.path, damaged);
      const changed = /does not match the sha256 recorded for it; it was changed or damaged on disk/;
      await expect(source.exportRun({ runId: original.id, out })).rejects.toThrow(changed);
      await expect(source.generateSamples({ runId: original.id, count: 4 })).rejects.toThrow(changed);
      expect(existsSync(out)).toBe(false);
      rmSync(checkpoint.path);
      const missing = new RegExp(`checkpoint file of run ${original.id} at step ${checkpoint.step} is missing`);
      await expect(source.exportRun({ runId: original.id, out })).rejects.toThrow(missing);
      await expect(source.interpolateLatent({ runId: original.id, from: 0, to: 1 })).rejects.toThrow(missing);
    } finally {
      writeFileSync(checkpoint.path, good);
    }
    const exported = await source.exportRun({ runId: original.id, out });
    expect(exported.files.find((f) => f.path === 'checkpoint.safetensors')).toEqual({
      path: 'checkpoint.safetensors',
      size: good.length,
      sha256: checkpoint.sha256,
    });
  });
});

describe('replay', () => {
  it('re-runs a run on the same backend to the last bit, linked by replay_of', async () => {
    const plan = await source.planReplay({ runId: original.id });
    expect(plan).toMatchObject({
      expected: { backend: original.backend, datasetHash: original.datasetHash },
      warnings: [],
    });
    const { run } = await source.replayRun({ runId: original.id });
    const replayed = await source.waitForRun(run.id);
    expect(replayed).toMatchObject({
      status: 'completed',
      replayOf: original.id,
      backend: original.backend,
      datasetHash: original.datasetHash,
    });
    const comparison = await source.compareRuns({ runIds: [original.id, replayed.id] });
    expect(comparison.metrics.filter((m) => !m.timing && !m.identical)).toEqual([]);
    expect(comparison.identical).toBe(true);
    const loss = comparison.metrics.find((m) => m.metric === 'train/loss')!;
    expect(loss).toMatchObject({ maxAbsDiff: 0, points: 8, identical: true });
    expect(comparison.metrics.find((m) => m.metric === 'test/iwae')).toMatchObject({ maxAbsDiff: 0, identical: true });
    expect(comparison.metrics.find((m) => m.metric === 'train/samples_per_sec')?.timing).toBe(true);
    for (const m of comparison.metrics.filter((m) => !m.timing)) expect(m.maxAbsDiff, m.metric).toBe(0);
  });

  it('names a different backend or data set hash in a warning before it starts', async () => {
    const other = await Workbench.open({ db: join(temp, 'source'), runQueue: false, backend: 'cpu' });
    open.push(other);
    const plan = await other.planReplay({ runId: original.id });
    expect(plan.warnings.join('\n')).toContain(
      `Backend differs: the original trained on '${original.backend}', this replay will use 'cpu'`,
    );
    await source.store.runs.setInfo(original.id, { datasetHash: 'f'.repeat(64) });
    try {
      const changed = await source.planReplay({ runId: original.id });
      expect(changed.warnings.join('\n')).toMatch(
        /Data set hash differs: the original trained on mnist with sha256 ffffffffffff/,
      );
    } finally {
      await source.store.runs.setInfo(original.id, { datasetHash: original.datasetHash! });
    }
  });
});

describe("the latent scatter's test images", () => {
  it('gives test example i of the run as a PNG of its grey levels, with the label the latents carry', async () => {
    const latents = await source.getLatents({ runId: original.id });
    expect(latents.count).toBe(32);
    const data = await loadRunDataset(original.config);
    for (const index of [0, 5, 31]) {
      const image = await source.getTestImage({ runId: original.id, index });
      expect(image).toMatchObject({ runId: original.id, index, width: 28, height: 28 });
      expect(image.label).toBe(latents.labels![index]);
      const png = decodePng(Buffer.from(image.dataUrl.split(',')[1], 'base64'));
      expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
      const expected = Array.from(data.test.pixels.subarray(index * 784, (index + 1) * 784), (v) =>
        Math.round(v * 255),
      );
      expect(Array.from(png.data)).toEqual(expected);
    }
    await expect(source.getTestImage({ runId: original.id, index: 32 })).rejects.toThrow(
      /index must be a test image index from 0 to 31, got 32/,
    );
  });
});
