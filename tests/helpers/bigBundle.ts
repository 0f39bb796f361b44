// A valid run bundle of a chosen size, made in a second without training: the bulk is one TF.js
// weight shard of random (incompressible) bytes, so packing, unpacking and hashing do their full
// work (an import checks it and keeps no copy); the checkpoint holds zeros in every weight of the
// config's small model, so it passes the import's check against the model.
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseRunConfig } from '../../src-main/api/config';
import { encodeCheckpoint } from '../../src-main/training/checkpoint';
import { modelWeightSpec } from '../../src-main/training/weightSpec';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, packBundle } from '../../src-main/workbench/exchange/bundle';
import { metricsToCsv } from '../../src-main/workbench/exchange/csv';
import type { BundleRunRecord } from '../../src-main/workbench/exchange/exportRun';

export async function writeBigBundle(
  dir: string,
  megabytes: number,
  name = 'big.zip',
): Promise<{ path: string; bytes: number }> {
  const config = parseRunConfig({ model: { hidden: [16], latentDim: 2 } });
  const step = 10;
  const shard = randomBytes(megabytes * 1024 ** 2);
  const spec = await modelWeightSpec(config, [28, 28, 1], 'cpu');
  const checkpoint = encodeCheckpoint({
    model: spec.map(({ name, shape }) => ({ name, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) })),
    optimizer: [],
    metadata: { step: String(step), epoch: '1' },
  });
  const record: BundleRunRecord = {
    id: 'b16b0b00',
    name: `big bundle ${megabytes} MB`,
    experiment: null,
    status: 'completed',
    modelKind: config.model.kind,
    dataset: config.data.dataset,
    datasetHash: null,
    testSetHash: null,
    datasetNote: null,
    backend: 'cpu',
    appVersion: 'test',
    seed: config.train.seed,
    tags: [],
    createdAt: 1_700_000_000_000,
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_001_000,
    step,
    epoch: 1,
    totalSteps: step,
    error: null,
    replayOf: null,
    notes: '',
    images: [],
  };
  const points = Array.from({ length: step }, (_, i) => ({
    name: 'train/loss',
    step: i + 1,
    epoch: 1,
    value: 100 - i,
    wallTime: 1_700_000_000_000 + i,
  }));
  const text = (value: string) => Buffer.from(value, 'utf8');
  const packed = packBundle(
    [
      { path: 'config.json', bytes: text(JSON.stringify(config)) },
      { path: 'run.json', bytes: text(JSON.stringify(record)) },
      { path: 'metrics.csv', bytes: text(metricsToCsv(points)) },
      { path: 'checkpoint.safetensors', bytes: checkpoint },
      { path: 'tfjs/decoder/model.json', bytes: text('{}') },
      { path: 'tfjs/decoder/group1-shard1of1.bin', bytes: shard },
    ],
    {
      format: BUNDLE_FORMAT,
      formatVersion: BUNDLE_FORMAT_VERSION,
      appVersion: 'test',
      createdAt: new Date(0).toISOString(),
      run: { id: record.id, name: record.name, status: record.status },
      dataset: { name: config.data.dataset, hash: null },
      backend: 'cpu',
      inputShape: [28, 28, 1],
      checkpoint: {
        step,
        epoch: 1,
        kind: 'latest',
        sha256: createHash('sha256').update(checkpoint).digest('hex'),
        path: 'checkpoint.safetensors',
      },
      networks: { decoder: { path: 'tfjs/decoder/model.json', input: 'z', output: 'x' } },
    },
    join(dir, name),
  );
  return { path: packed.path, bytes: packed.bytes };
}
