// The one reader of safetensors headers (huggingface/safetensors: a u64 little-endian header
// length, a UTF-8 JSON header of name -> {dtype, shape, data_offsets} plus an optional
// __metadata__ of strings, then the raw tensor bytes). The trainer decoding a checkpoint, an
// import checking a bundle's checkpoint and an import reading its step all parse it here, with
// the same bounds: a header may come from a hand-made bundle.

/** Largest header read (the JSON part); ours are a few kB. */
export const MAX_SAFETENSORS_HEADER = 16 * 1024 ** 2;
/** Most dimensions a tensor may declare. */
const MAX_RANK = 8;

export interface TensorEntry {
  name: string;
  dtype: 'F32';
  shape: number[];
  /** Byte offsets into the data section (which starts at `dataStart` of the file). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: TensorEntry[];
  metadata: Record<string, string>;
  /** Where the data section starts in the file: 8 + the header length. */
  dataStart: number;
}

/** Turns a parse failure into the caller's error (with the caller's label). */
export type Refuse = (message: string) => Error;

const plainError: Refuse = (message) => new Error(message);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The header length the first 8 bytes declare, checked against the file's size and
 * MAX_SAFETENSORS_HEADER: a caller reading from disk reads that many bytes after the first 8.
 */
export function safetensorsHeaderLength(first: Uint8Array, fileSize: number, refuse: Refuse = plainError): number {
  if (fileSize < 8 || first.length < 8) throw refuse(`${fileSize} bytes, too short for a safetensors header`);
  const length = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n || length > BigInt(Math.min(MAX_SAFETENSORS_HEADER, fileSize - 8)))
    throw refuse(`header length ${length} does not fit the ${fileSize}-byte file (at most ${MAX_SAFETENSORS_HEADER})`);
  return Number(length);
}

/**
 * The tensors and metadata a safetensors file declares, every one checked: the header valid UTF-8
 * JSON holding an object, dtype F32, a shape of at most 8 positive safe integers, offsets inside
 * the data section, its byte size count x 4, no two tensors overlapping, metadata values strings.
 * `head` holds the file's first 8 + header-length bytes at least (the whole file will do);
 * `fileSize` is the size of the whole file. No tensor is copied.
 */
export function parseSafetensorsHeader(
  head: Uint8Array,
  fileSize: number = head.length,
  refuse: Refuse = plainError,
): SafetensorsHeader {
  const headerLength = safetensorsHeaderLength(head, fileSize, refuse);
  if (head.length < 8 + headerLength) throw refuse(`header truncated at ${head.length} of ${8 + headerLength} bytes`);
  const dataLength = fileSize - 8 - headerLength;
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(head.subarray(8, 8 + headerLength)));
  } catch {
    throw refuse('the header is not valid JSON (not a safetensors file)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw refuse('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw refuse('__metadata__ is not an object');
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== 'string') throw refuse(`__metadata__.${key}: expected a string`);
        metadata[key] = value;
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw refuse(`${name}: not a tensor entry`);
    const tensor = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (tensor.dtype !== 'F32') throw refuse(`${name}.dtype: ${JSON.stringify(tensor.dtype)}; only F32 is read`);
    const shape = tensor.shape;
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 1))
      throw refuse(`${name}.shape: ${JSON.stringify(shape)} is not a list of at most ${MAX_RANK} positive integers`);
    const offsets = tensor.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o)))
      throw refuse(`${name}.data_offsets: ${JSON.stringify(offsets)} is not [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin < 0 || end < begin || end > dataLength)
      throw refuse(`${name}.data_offsets: [${begin}, ${end}] lies outside the ${dataLength}-byte data section`);
    const values = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== values * 4)
      throw refuse(
        `${name}.data_offsets: ${end - begin} bytes for shape [${shape.join(', ')}] (expected ${values * 4})`,
      );
    tensors.push({ name, dtype: 'F32', shape: shape as number[], begin, end });
  }
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end)
      throw refuse(`${sorted[i].name}.data_offsets: overlaps ${sorted[i - 1].name}`);
  }
  return { tensors, metadata, dataStart: 8 + headerLength };
}
