// Bundles whose hashes are right but whose content is not: each is refused before anything is
// written (the target database's dump hash is unchanged, no checkpoint file is left), and the
// error names the first field that failed. Before issue #13 these imported as runs whose generate
// and export then failed, or stored TEXT in INTEGER columns that survived re-export.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { zipSync } from 'fflate';
import { ApiError } from '../../../src-main/api/contract';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src-main/training/checkpoint';
import { MANIFEST_FILE, MANIFEST_HASH_FILE, type BundleManifest } from '../../../src-main/workbench/exchange/bundle';
import { sealBundle, zipBundle, type BundleFiles } from '../../helpers/bundleFiles';
import { Workbench } from '../../../src-main/workbench/service';
import { databaseHash, tempDir, removeTempDirs } from './helpers';

const dir = tempDir();
const open: Workbench[] = [];
let target: Workbench;
let files: BundleFiles;
let manifest: BundleManifest;
let before: string;

function readTree(root: string): BundleFiles {
  const out: BundleFiles = new Map();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.set(relative(root, full).split(sep).join('/'), new Uint8Array(readFileSync(full)));
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  const source = await Workbench.open({ db: join(dir, 'source'), runQueue: false, backend: 'wasm' });
  open.push(source);
  const created = await source.createRun(
    {
      config: {
        model: { hidden: [16], latentDim: 2 },
        data: { dataset: 'mnist', trainSize: 64, testSize: 32 },
        train: { epochs: 1, batchSize: 32, seed: 2, backend: 'wasm' },
        eval: { iwaeK: 2, iwaeExamples: 4, gridSize: 4 },
      },
    },
    { startHere: true },
  );
  const run = await source.waitForRun(created.id);
  expect(run.status).toBe('completed');
  await source.exportRun({ runId: run.id, out: join(dir, 'bundle') });
  files = readTree(join(dir, 'bundle'));
  manifest = JSON.parse(Buffer.from(files.get(MANIFEST_FILE)!).toString('utf8')) as BundleManifest;
  target = await Workbench.open({ db: join(dir, 'target'), runQueue: false, backend: 'wasm' });
  open.push(target);
  before = databaseHash(target.store.file);
}, 120_000);

afterAll(async () => {
  for (const w of open.splice(0)) await w.close();
  removeTempDirs();
});

let counter = 0;
/** The exported bundle with `change` applied, sealed again (every hash right) and zipped as the app does. */
function variant(change: (files: BundleFiles, manifest: Record<string, any>) => void): string {
  const copy: BundleFiles = new Map(
    [...files].filter(([path]) => path !== MANIFEST_FILE && path !== MANIFEST_HASH_FILE),
  );
  const { files: _, ...head } = structuredClone(manifest);
  change(copy, head);
  sealBundle(copy, head as Omit<BundleManifest, 'files'>);
  const file = join(dir, `variant-${++counter}.zip`);
  writeFileSync(file, zipBundle(copy));
  return file;
}

const json = (files: BundleFiles, path: string) => JSON.parse(Buffer.from(files.get(path)!).toString('utf8'));
const setJson = (files: BundleFiles, path: string, value: unknown) =>
  files.set(path, Buffer.from(JSON.stringify(value), 'utf8'));

/** Re-encodes a safetensors file with its header JSON changed by `edit` (data bytes kept). */
function editHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString('utf8'));
  edit(header);
  const text = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + length), 8 + text.length);
  return out;
}

async function refused(file: string, pattern: RegExp) {
  const error = await target.importBundle({ path: file }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(400);
  expect((error as ApiError).message).toMatch(pattern);
  expect(databaseHash(target.store.file)).toBe(before);
  const checkpoints = join(dir, 'target', 'checkpoints');
  expect(existsSync(checkpoints) ? readdirSync(checkpoints) : []).toEqual([]);
}

describe('hostile bundles', () => {
  it('the unmodified bundle imports (the variants below differ from it in one thing each)', async () => {
    const other = await Workbench.open({ db: join(dir, 'control'), runQueue: false, backend: 'wasm' });
    open.push(other);
    const imported = await other.importBundle({ path: variant(() => {}) });
    expect(imported.run.status).toBe('completed');
  }, 60_000);

  it('a checkpoint with zero tensors is refused', async () => {
    const step = manifest.checkpoint.step;
    const file = variant((f) =>
      f.set('checkpoint.safetensors', encodeCheckpoint({ model: [], optimizer: [], metadata: { step: String(step) } })),
    );
    await refused(
      file,
      /does not fit the model its config builds: model\/\S+ is missing \(the checkpoint has 0 of \d+ weights\)/,
    );
  }, 60_000);

  it('a checkpoint with flattened shapes is refused, naming the tensor and both shapes', async () => {
    const file = variant((f) => {
      const content = decodeCheckpoint(f.get('checkpoint.safetensors')!);
      content.model = content.model.map((w) => ({ ...w, shape: [w.values.length] }));
      f.set('checkpoint.safetensors', encodeCheckpoint(content));
    });
    await refused(file, /model\/\S+\.shape: \[\d+\], the model's is \[\d+, \d+\]/);
  }, 60_000);

  it('a checkpoint tensor with a negative data offset is refused', async () => {
    const file = variant((f) =>
      f.set(
        'checkpoint.safetensors',
        editHeader(f.get('checkpoint.safetensors')!, (header) => {
          // The first tensor of the data section, moved to start 8 bytes before it.
          const name = Object.keys(header).find((k) => header[k].data_offsets?.[0] === 0)!;
          header[name].data_offsets = [-8, header[name].data_offsets[1] - 8];
        }),
      ),
    );
    await refused(file, /checkpoint\.safetensors: model\/\S+\.data_offsets: \[-8, \d+\] lies outside/);
  }, 60_000);

  it('an image that is not a PNG is refused, naming it', async () => {
    const image = [...files.keys()].find((path) => path.startsWith('images/') && path.endsWith('.png'))!;
    const file = variant((f) => {
      const png = Uint8Array.from(f.get(image)!);
      png[1] = 0x51; // "\x89QNG": one signature byte off
      f.set(image, png);
    });
    await refused(file, new RegExp(`${image.replace(/[.]/g, '\\.')} is not a PNG`));
  }, 60_000);

  it('a zip holding config.json twice is refused (it used to be read as the last one)', async () => {
    const hostile = json(files, 'config.json');
    hostile.train.epochs = 9999;
    // The manifest hashes the second (hostile) config.json; unzip(1) would show the first.
    const copy: BundleFiles = new Map([...files].filter(([p]) => p !== MANIFEST_FILE && p !== MANIFEST_HASH_FILE));
    setJson(copy, 'config.json', hostile);
    const { files: _, ...head } = structuredClone(manifest);
    sealBundle(copy, head);
    const entries: Record<string, Uint8Array> = { 'config.json': files.get('config.json')! };
    for (const [path, bytes] of copy) entries[path === 'config.json' ? 'config.jsoX' : path] = bytes;
    const zipped = Buffer.from(zipSync(entries));
    const patched = Buffer.from(zipped.toString('latin1').split('config.jsoX').join('config.json'), 'latin1');
    const file = join(dir, 'duplicate.zip');
    writeFileSync(file, patched);
    await refused(file, /holds config\.json twice/);
  }, 60_000);

  it.each([
    ['epoch "abc"', (r: any) => (r.epoch = 'abc'), /run\.json: epoch: .*expected number/],
    ['totalSteps "lots"', (r: any) => (r.totalSteps = 'lots'), /run\.json: totalSteps: .*expected number/],
    ['an image kind of "../../evil"', (r: any) => (r.images[0].kind = '../../evil'), /run\.json: images\.0\.kind: /],
    ['a 20 MB name', (r: any) => (r.name = 'x'.repeat(20_000_000)), /run\.json: name: Too big: .*200/],
    ['an unknown field', (r: any) => (r.owner = 'me'), /run\.json: \(root\): Unrecognized key: "owner"/],
  ])(
    'run.json with %s is refused, naming the field',
    async (_what, change, pattern) => {
      const file = variant((f) => {
        const record = json(f, 'run.json');
        change(record);
        setJson(f, 'run.json', record);
      });
      await refused(file, pattern);
    },
    60_000,
  );

  it.each([
    ['a checkpoint step "abc"', (m: any) => (m.checkpoint.step = 'abc'), /manifest\.json: checkpoint\.step: /],
    ['an input shape of strings', (m: any) => (m.inputShape = ['28', 28, 1]), /manifest\.json: inputShape\.0: /],
    ['a status that is no run status', (m: any) => (m.run.status = 'hacked'), /manifest\.json: run\.status: /],
  ])(
    'manifest.json with %s is refused, naming the field',
    async (_what, change, pattern) => {
      await refused(
        variant((_f, m) => change(m)),
        pattern,
      );
    },
    60_000,
  );

  it('a bundle naming a path as its data set gets the same warning whether the path exists or not', async () => {
    const warnings: string[][] = [];
    for (const path of ['/etc/passwd', '/no/such/data.idx']) {
      const other = await Workbench.open({
        db: join(dir, `paths-${warnings.length}`),
        runQueue: false,
        backend: 'wasm',
      });
      open.push(other);
      const file = variant((f) => {
        const config = json(f, 'config.json');
        config.data.dataset = path;
        setJson(f, 'config.json', config);
      });
      const imported = await other.importBundle({ path: file });
      warnings.push(imported.warnings.map((w) => w.split(path).join('<path>')));
    }
    expect(warnings[0]).toEqual(warnings[1]);
    expect(warnings[0].join(' ')).toMatch(/<path> is a path on the machine the run was trained on/);
  }, 60_000);

  it('a file the manifest lists but the format does not define is refused', async () => {
    const file = variant((f) => f.set('extra/payload.bin', new Uint8Array([1, 2, 3])));
    await refused(file, /manifest\.json: files\.\d+\.path: extra\/payload\.bin is not a file a bundle holds/);
  }, 60_000);
});
