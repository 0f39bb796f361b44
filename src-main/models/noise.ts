// Seeded noise for the models. The standard-normal draws are a counter-based stream: element i of
// stream `seed` is a pure function of (seed, i). So a sample's noise does not depend on how the
// samples are chunked (iwaeBound in chunks of 500 sees exactly the draws of one unchunked call),
// and it is the same on every backend.
import * as tf from '@tensorflow/tfjs';

const GOLDEN = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/** murmur3 fmix32 finalizer: a bijective 32-bit mix with full avalanche. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from a seed and salts (layer index, purpose, ...); stable across runs. */
export function deriveSeed(seed: number, ...salts: number[]): number {
  let h = mix32((seed >>> 0) ^ GOLDEN);
  for (const salt of salts) h = mix32((h ^ mix32((salt >>> 0) + GOLDEN)) + Math.imul(h, 5));
  return h;
}

/** A 32-bit hash of a string (layer names), for per-layer initializer seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** The 32-bit word at position `counter` of the stream keyed by `key`. */
function word(key: number, counter: number): number {
  const lo = counter >>> 0;
  const hi = Math.floor(counter / TWO_POW_32);
  return mix32(mix32((lo ^ key) >>> 0) ^ mix32((hi + key + GOLDEN) >>> 0));
}

/** Standard-normal values at positions offset..offset+count-1 of stream `seed` (Box-Muller). */
export function standardNormalValues(count: number, seed: number, offset = 0): Float32Array {
  const key = deriveSeed(seed, 0x5eed);
  const out = new Float32Array(count);
  for (let j = 0; j < count; j++) {
    const i = 2 * (offset + j);
    const u1 = (word(key, i) + 1) / TWO_POW_32; // in (0, 1], so log(u1) is finite
    const u2 = word(key, i + 1) / TWO_POW_32;
    out[j] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2); // Box-Muller transform
  }
  return out;
}

/** A tensor of N(0, 1) draws: element j (row-major) is position offset + j of stream `seed`. */
export function standardNormal(shape: number[], seed: number, offset = 0): tf.Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(standardNormalValues(count, seed, offset), shape, 'float32');
}

/** A tensor of U[0, 1) draws from the same counter stream (a separate key per seed). */
export function uniform(shape: number[], seed: number): tf.Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const key = deriveSeed(seed, 0x0f1a7);
  const out = new Float32Array(count);
  for (let j = 0; j < count; j++) out[j] = word(key, j) / TWO_POW_32;
  return tf.tensor(out, shape, 'float32');
}
