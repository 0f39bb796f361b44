// Hostile safetensors headers: the one parser (data/safetensors.ts) refuses each, and so does every
// reader built on it (the trainer's decodeCheckpoint, an import's checkpointTensors and checkpointStep),
// each with its own error type and label.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SAFETENSORS_HEADER, parseSafetensorsHeader } from '../../../src-main/data/safetensors';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../../src-main/training/checkpoint';
import { BundleError, checkpointStep } from '../../../src-main/workbench/exchange/bundle';
import { checkpointTensors } from '../../../src-main/workbench/exchange/validate';

const dir = mkdtempSync(join(tmpdir(), 'vwb-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file of an 8-byte length, the header bytes as given, then `data` zero bytes. */
function file(header: string | Uint8Array, data = 0, declared?: bigint): Uint8Array {
  const json = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const out = new Uint8Array(8 + json.length + data);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}
const tensor = (shape: unknown, data_offsets: unknown, dtype: unknown = 'F32') => ({ dtype, shape, data_offsets });
const header = (entries: Record<string, unknown>) => JSON.stringify(entries);

const HOSTILE: [string, Uint8Array, RegExp][] = [
  ['a 5-byte file', new Uint8Array(5), /5 bytes, too short for a safetensors header/],
  ['a header longer than the file', file('{}', 0, 1000n), /header length 1000 does not fit the 10-byte file/],
  [
    'a header length of 2^63',
    file('{}', 0, 2n ** 63n),
    new RegExp(`header length ${2n ** 63n} does not fit .* \\(at most ${MAX_SAFETENSORS_HEADER}\\)`),
  ],
  ['a zero header length', file('', 16), /header length 0 does not fit/],
  ['invalid UTF-8', file(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])), /the header is not valid JSON/],
  ['a header that is not JSON', file('{"a":'), /the header is not valid JSON/],
  ['a header that is an array', file('[1, 2]'), /the header is not a JSON object/],
  ['a tensor that is a number', file(header({ w: 3 })), /w: not a tensor entry/],
  ['an F16 tensor', file(header({ w: tensor([1], [0, 2], 'F16') }), 2), /w\.dtype: "F16"; only F32 is read/],
  ['a rank-9 shape', file(header({ w: tensor(Array(9).fill(1), [0, 4]) }), 4), /w\.shape: .* at most 8 positive/],
  ['a zero dimension', file(header({ w: tensor([0, 3], [0, 0]) })), /w\.shape: \[0,3\]/],
  ['a fractional dimension', file(header({ w: tensor([1.5], [0, 4]) }), 4), /w\.shape: \[1\.5\]/],
  ['offsets that are not a pair', file(header({ w: tensor([1], [0]) }), 4), /w\.data_offsets: \[0\] is not/],
  ['a negative offset', file(header({ w: tensor([2], [-8, 0]) }), 8), /w\.data_offsets: \[-8, 0\] lies outside/],
  [
    'an end past the data',
    file(header({ w: tensor([4], [0, 16]) }), 8),
    /w\.data_offsets: \[0, 16\] lies outside the 8-byte/,
  ],
  [
    'a byte size not count x 4',
    file(header({ w: tensor([3], [0, 8]) }), 12),
    /w\.data_offsets: 8 bytes for shape \[3\] \(expected 12\)/,
  ],
  [
    'two overlapping tensors',
    file(header({ a: tensor([2], [0, 8]), b: tensor([2], [4, 12]) }), 12),
    /b\.data_offsets: overlaps a/,
  ],
  ['metadata that is a list', file(header({ __metadata__: ['x'] })), /__metadata__ is not an object/],
  ['a metadata number', file(header({ __metadata__: { step: 5 } })), /__metadata__\.step: expected a string/],
];

describe('safetensors headers', () => {
  it('reads what encodeCheckpoint writes: tensors, offsets, metadata', () => {
    const bytes = encodeCheckpoint({
      model: [
        { name: 'w', shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        { name: 'b', shape: [3], values: Float32Array.from([7, 8, 9]) },
      ],
      optimizer: [{ name: 'iter', shape: [], values: Float32Array.from([4]) }],
      metadata: { step: '12', epoch: '1' },
    });
    const parsed = parseSafetensorsHeader(bytes);
    expect(parsed.metadata).toEqual({ step: '12', epoch: '1' });
    expect(parsed.tensors.map(({ name, shape, begin, end }) => [name, shape, begin, end])).toEqual([
      ['model/w', [2, 3], 0, 24],
      ['model/b', [3], 24, 36],
      ['optimizer/0000/iter', [], 36, 40],
    ]);
    expect((parsed.dataStart - 8) % 8).toBe(0);
    expect(parsed.dataStart + 40).toBe(bytes.length);
    const decoded = decodeCheckpoint(bytes);
    expect(Array.from(decoded.model[0].values)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(decoded.optimizer[0].values)).toEqual([4]);
    const onDisk = join(dir, 'good.safetensors');
    writeFileSync(onDisk, bytes);
    expect(checkpointStep(onDisk, 'good')).toBe(12);
  });

  it.each(HOSTILE)('refuses %s, in every reader, with its type and label', (_what, bytes, pattern) => {
    expect(() => parseSafetensorsHeader(bytes)).toThrow(pattern);
    expect(() => decodeCheckpoint(bytes, 'ck')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(bytes, 'ck')).toThrow(new RegExp(`^ck: ${pattern.source}`));
    expect(() => checkpointTensors(bytes, 'b.zip')).toThrow(BundleError);
    expect(() => checkpointTensors(bytes, 'b.zip')).toThrow(
      new RegExp(`^b\\.zip: checkpoint\\.safetensors: ${pattern.source}`),
    );
    const onDisk = join(dir, 'hostile.safetensors');
    writeFileSync(onDisk, bytes);
    expect(() => checkpointStep(onDisk, 'b.zip: checkpoint.safetensors')).toThrow(BundleError);
    expect(() => checkpointStep(onDisk, 'b.zip: checkpoint.safetensors')).toThrow(pattern);
  });
});
