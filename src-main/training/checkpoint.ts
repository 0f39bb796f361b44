// Checkpoints are safetensors files (huggingface/safetensors format: u64 little-endian header
// length, a JSON header of name -> {dtype, shape, data_offsets}, then the raw little-endian
// tensor bytes), so PyTorch, JAX and numpy users can read our weights with their own tools.
// Model weights are stored as "model/<name>", Adam's state as "optimizer/<index>".
import { parseSafetensorsHeader } from '../data/safetensors';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface CheckpointContent {
  model: NamedArray[];
  optimizer: NamedArray[];
  /** String metadata: step, epoch, runId, config JSON, app version. */
  metadata: Record<string, string>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export function encodeCheckpoint(content: CheckpointContent): Uint8Array {
  const entries: [string, NamedArray][] = [
    ...content.model.map((a): [string, NamedArray] => [`model/${a.name}`, a]),
    ...content.optimizer.map((a, i): [string, NamedArray] => [`optimizer/${String(i).padStart(4, '0')}/${a.name}`, a]),
  ];
  const header: Record<string, unknown> = { __metadata__: content.metadata };
  let offset = 0;
  for (const [name, array] of entries) {
    const bytes = array.values.length * 4;
    header[name] = { dtype: 'F32', shape: array.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the format recommends.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const [, array] of entries) {
    out.set(new Uint8Array(array.values.buffer, array.values.byteOffset, array.values.byteLength), position);
    position += array.values.byteLength;
  }
  return out;
}

/** Reads a checkpoint; the header is checked by data/safetensors.ts (the bounds every reader uses). */
export function decodeCheckpoint(bytes: Uint8Array, label = 'checkpoint'): CheckpointContent {
  const { tensors, metadata, dataStart } = parseSafetensorsHeader(
    bytes,
    bytes.length,
    (message) => new CheckpointError(`${label}: ${message}`),
  );
  const model: NamedArray[] = [];
  const optimizerSlots: [string, NamedArray][] = [];
  for (const { name: key, shape, begin, end } of tensors) {
    // Copy so the result does not alias (and keep alive) the whole file buffer.
    const values = new Float32Array(bytes.slice(dataStart + begin, dataStart + end).buffer);
    if (key.startsWith('model/')) model.push({ name: key.slice('model/'.length), shape, values });
    else if (key.startsWith('optimizer/'))
      optimizerSlots.push([key, { name: key.split('/').slice(2).join('/'), shape, values }]);
  }
  // Optimizer slots are positional (Adam matches them to variables by index): restore index order.
  optimizerSlots.sort(([a], [b]) => (a < b ? -1 : 1));
  const optimizer = optimizerSlots.map(([, slot]) => slot);
  return { model, optimizer, metadata };
}
