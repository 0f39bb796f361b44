// Bundle content validated whole before anything is written. Hashes (bundle.ts) prove a bundle is
// the one that was exported; they do not prove it was sane: a hand-made bundle with good hashes can
// carry `epoch: "abc"`, an image kind of "../../evil", a 20 MB name, two config.json entries in one
// zip, or a checkpoint whose tensors have zero count, flattened shapes or offsets outside the file.
// Everything here is pure (no fs, no store, no tfjs) and every failure names the first field that failed.
import { z } from 'zod';
import { IMAGE_KINDS, RUN_STATUSES } from '../../api/constants';
import { parseSafetensorsHeader, type SafetensorsHeader, type TensorEntry } from '../../data/safetensors';
import { BundleError, isSafeBundlePath } from './bundle';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 (64 lowercase hex digits)');
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const text = (max: number) => z.string().max(max);
const safePath = z
  .string()
  .refine((path) => isSafeBundlePath(path), 'a relative path inside the bundle (no .., no leading /)');
const runIdText = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a run id (letters, digits, - and _)');
const nameText = z.string().trim().min(1).max(200);
const time = z.number().int().min(0).max(8.64e15);

export const ManifestSchema = z
  .object({
    format: z.literal('vae-workbench-bundle'),
    formatVersion: z.number().int().min(1).max(1),
    appVersion: text(64),
    createdAt: text(64),
    run: z.object({ id: runIdText, name: nameText, status: z.enum(RUN_STATUSES) }).strict(),
    dataset: z.object({ name: z.string().min(1).max(4096), hash: hex64.nullable() }).strict(),
    backend: text(100).nullable(),
    inputShape: z.tuple([
      z.number().int().min(1).max(4096),
      z.number().int().min(1).max(4096),
      z.number().int().min(1).max(4),
    ]),
    checkpoint: z
      .object({
        step: count,
        epoch: count,
        kind: z.enum(['latest', 'best', 'epoch']),
        sha256: hex64,
        path: safePath,
      })
      .strict(),
    networks: z
      .record(
        z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'a network name'),
        z.object({ path: safePath, input: text(1000), output: text(1000) }).strict(),
      )
      .refine((value) => Object.keys(value).length <= 16, 'at most 16 networks'),
    files: z.array(z.object({ path: safePath, size: count, sha256: hex64 }).strict()).max(100_000),
  })
  .strict();

export const RunRecordSchema = z
  .object({
    id: runIdText,
    name: nameText,
    experiment: nameText.nullable(),
    status: z.enum(RUN_STATUSES),
    tags: z.array(z.string().trim().min(1).max(64)).max(32),
    notes: text(100_000),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    modelKind: text(32),
    dataset: z.string().min(1).max(4096),
    datasetHash: hex64.nullable(),
    // Bundles written before the fixed test sets (issue #12) have neither.
    testSetHash: hex64.nullable().optional(),
    datasetNote: text(1000).nullable().optional(),
    backend: text(100).nullable(),
    // Bundles written before the notes were stored (migration 0005) have none.
    backendNotes: z.array(text(2000)).max(64).optional(),
    appVersion: text(64),
    createdAt: time,
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    step: count,
    epoch: count,
    totalSteps: count.nullable(),
    error: text(10_000).nullable(),
    replayOf: runIdText.nullable(),
    images: z
      .array(
        z
          .object({
            path: safePath.refine((p) => p.startsWith('images/') && p.endsWith('.png'), 'images/<name>.png'),
            kind: z.enum(IMAGE_KINDS),
            step: count,
            epoch: count,
            width: z.number().int().min(1).max(16_384),
            height: z.number().int().min(1).max(16_384),
          })
          .strict(),
      )
      .max(100_000),
    // Bundles written before the latents were carried have none.
    latents: z
      .array(
        z
          .object({
            step: count,
            epoch: count,
            count: z.number().int().min(1).max(100_000),
            dims: z.number().int().min(1).max(4096),
            means: safePath.refine((p) => p.startsWith('latents/') && p.endsWith('.f32'), 'latents/<name>.f32'),
            labels: safePath
              .refine((p) => p.startsWith('latents/') && p.endsWith('.i32'), 'latents/<name>.i32')
              .nullable(),
          })
          .strict(),
      )
      .max(100_000)
      .optional(),
  })
  .strict();

export type ValidManifest = z.infer<typeof ManifestSchema>;
export type ValidRunRecord = z.infer<typeof RunRecordSchema>;

/** "run.json: epoch: Invalid input: expected number, received string" for the first issue. */
function firstIssue(file: string, error: z.ZodError): string {
  const [issue] = error.issues;
  const path = issue.path.map(String).join('.') || '(root)';
  return `${file}: ${path}: ${issue.message}`;
}

export function parseManifest(value: unknown, label: string): ValidManifest {
  const result = ManifestSchema.safeParse(value);
  if (!result.success) throw new BundleError(`${label}: ${firstIssue('manifest.json', result.error)}`);
  return result.data;
}

export function parseRunRecord(value: unknown, label: string): ValidRunRecord {
  const result = RunRecordSchema.safeParse(value);
  if (!result.success) throw new BundleError(`${label}: ${firstIssue('run.json', result.error)}`);
  return result.data;
}

/** Files a bundle may hold besides images/*.png and tfjs/<network>/*: what exportRun writes. */
const KNOWN_FILES = new Set([
  'manifest.json',
  'manifest.sha256',
  'config.json',
  'run.json',
  'metrics.csv',
  'README.txt',
  'checkpoint.safetensors',
]);

/**
 * The manifest, the run record and the file list agree: no path listed twice, every image of the
 * record listed once, no file the format does not define, the checkpoint and networks present.
 */
export function checkBundleListing(manifest: ValidManifest, record: ValidRunRecord, label: string): void {
  const listed = new Set<string>();
  for (const [i, entry] of manifest.files.entries()) {
    if (listed.has(entry.path))
      throw new BundleError(`${label}: manifest.json: files.${i}.path: ${entry.path} is listed twice`);
    listed.add(entry.path);
  }
  const images = new Set<string>();
  for (const [i, image] of record.images.entries()) {
    if (images.has(image.path))
      throw new BundleError(`${label}: run.json: images.${i}.path: ${image.path} is listed twice`);
    if (!listed.has(image.path))
      throw new BundleError(`${label}: run.json: images.${i}.path: ${image.path} is not in the manifest`);
    images.add(image.path);
  }
  // Each evaluation's latents once, their files listed, each exactly count x dims float32 (count int32 labels).
  const sizes = new Map(manifest.files.map((entry) => [entry.path, entry.size]));
  const latentFiles = new Set<string>();
  const latentSteps = new Set<number>();
  for (const [i, entry] of (record.latents ?? []).entries()) {
    if (latentSteps.has(entry.step))
      throw new BundleError(`${label}: run.json: latents.${i}.step: step ${entry.step} is listed twice`);
    latentSteps.add(entry.step);
    for (const [field, path, bytes] of [
      ['means', entry.means, entry.count * entry.dims * 4],
      ['labels', entry.labels, entry.count * 4],
    ] as const) {
      if (path === null) continue;
      if (latentFiles.has(path))
        throw new BundleError(`${label}: run.json: latents.${i}.${field}: ${path} is listed twice`);
      const size = sizes.get(path);
      if (size === undefined)
        throw new BundleError(`${label}: run.json: latents.${i}.${field}: ${path} is not in the manifest`);
      if (size !== bytes)
        throw new BundleError(
          `${label}: run.json: latents.${i}.${field}: ${path} is ${size} bytes, ${entry.count} x ${field === 'means' ? entry.dims : 1} values need ${bytes}`,
        );
      latentFiles.add(path);
    }
  }
  const networkFolders = Object.keys(manifest.networks).map((name) => `tfjs/${name}/`);
  for (const [i, entry] of manifest.files.entries()) {
    const known =
      KNOWN_FILES.has(entry.path) ||
      images.has(entry.path) ||
      latentFiles.has(entry.path) ||
      networkFolders.some((folder) => entry.path.startsWith(folder) && !entry.path.slice(folder.length).includes('/'));
    if (!known)
      throw new BundleError(`${label}: manifest.json: files.${i}.path: ${entry.path} is not a file a bundle holds`);
  }
  if (!listed.has(manifest.checkpoint.path))
    throw new BundleError(
      `${label}: manifest.json: checkpoint.path: ${manifest.checkpoint.path} is not in the manifest`,
    );
  for (const [name, network] of Object.entries(manifest.networks)) {
    if (!listed.has(network.path))
      throw new BundleError(`${label}: manifest.json: networks.${name}.path: ${network.path} is not in the manifest`);
  }
  if (manifest.run.id !== record.id)
    throw new BundleError(`${label}: run.json: id: ${record.id} differs from the manifest's run.id ${manifest.run.id}`);
}

// ---- checkpoints ------------------------------------------------------------------------------

/** The tensors a bundle's checkpoint declares, every one checked (data/safetensors.ts); no tensor is copied. */
export function checkpointTensors(bytes: Uint8Array, label: string): SafetensorsHeader {
  return parseSafetensorsHeader(
    bytes,
    bytes.length,
    (message) => new BundleError(`${label}: checkpoint.safetensors: ${message}`),
  );
}

/**
 * Every model tensor of the checkpoint matched by name and shape against the weights of the model
 * its config builds (`expected`, from training/weightSpec.ts), none missing, none unknown. Adam's
 * slots, when present, are the step count and two moments per trainable weight: their shapes must be those.
 */
export function matchCheckpointToModel(
  tensors: TensorEntry[],
  expected: { name: string; shape: number[]; trainable?: boolean }[],
  label: string,
): void {
  const fail = (message: string) =>
    new BundleError(`${label}: checkpoint.safetensors does not fit the model its config builds: ${message}`);
  const shapes = new Map(expected.map((w) => [`model/${w.name}`, w.shape]));
  const model = tensors.filter((t) => t.name.startsWith('model/'));
  const optimizer = tensors.filter((t) => t.name.startsWith('optimizer/'));
  const other = tensors.find((t) => !t.name.startsWith('model/') && !t.name.startsWith('optimizer/'));
  if (other) throw fail(`${other.name} is neither a model/ nor an optimizer/ tensor`);
  for (const tensor of model) {
    const shape = shapes.get(tensor.name);
    if (!shape) throw fail(`${tensor.name} is not a weight of the model`);
    if (shape.join('x') !== tensor.shape.join('x'))
      throw fail(`${tensor.name}.shape: [${tensor.shape.join(', ')}], the model's is [${shape.join(', ')}]`);
  }
  const present = new Set(model.map((t) => t.name));
  const missing = [...shapes.keys()].find((name) => !present.has(name));
  if (missing) throw fail(`${missing} is missing (the checkpoint has ${model.length} of ${shapes.size} weights)`);
  if (optimizer.length > 0) {
    const key = (shape: number[]) => shape.join('x');
    const want = new Map<string, number>();
    // Adam has moments for trainable weights only (a VQ-VAE's EMA codebook state has none).
    for (const w of expected) if (w.trainable !== false) want.set(key(w.shape), (want.get(key(w.shape)) ?? 0) + 2);
    want.set('', (want.get('') ?? 0) + 1); // the iteration count, a scalar
    for (const slot of optimizer) {
      const k = key(slot.shape.length === 1 && slot.shape[0] === 1 ? [] : slot.shape);
      const left = want.get(k) ?? 0;
      if (left === 0) throw fail(`${slot.name}.shape: [${slot.shape.join(', ')}] matches no Adam slot of the model`);
      want.set(k, left - 1);
    }
    const unfilled = [...want.values()].reduce((a, b) => a + b, 0);
    if (unfilled > 0) throw fail(`${unfilled} Adam slots are missing (the checkpoint has ${optimizer.length})`);
  }
}
