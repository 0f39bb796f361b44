// Generated 2-D shapes in the manner of dSprites (Matthey et al. 2017): five independent factors,
// shape (square, ellipse, heart), scale (6 values in [0.5, 1]), orientation (40 values in
// [0, 2pi)), posX and posY (32 values each), rendered as binary images. Rendering is a pure
// function of the factor indices, so each image is known exactly from its factors, which is what
// disentanglement metrics such as MIG need. dSprites' orientation grid is linspace(0, 2pi, 40)
// whose two ends draw the same image; ours stops short of 2pi so that all 40 values differ.
import { randomInt, type Random } from './random';
import { DatasetError, type Split } from './types';

export const SHAPE_NAMES = ['square', 'ellipse', 'heart'] as const;
export const SHAPE_FACTOR_NAMES = ['shape', 'scale', 'orientation', 'posX', 'posY'];
export const SHAPE_FACTOR_SIZES = [3, 6, 40, 32, 32];
/** 3 * 6 * 40 * 32 * 32 = 737,280 factor combinations. */
export const SHAPE_COMBINATIONS = SHAPE_FACTOR_SIZES.reduce((a, b) => a * b, 1);
export const DEFAULT_SHAPES_SIZE = 32;

// Geometry as fractions of the image side. At scale 1 a square has half-side 0.14, so even
// rotated by 45 degrees (half-diagonal 0.198) it stays inside the image at the extreme centres
// 0.2 and 0.8.
const HALF_EXTENT = 0.14;
const CENTRE_MIN = 0.2;
const CENTRE_RANGE = 0.6;

export interface ShapeFactors {
  shape: (typeof SHAPE_NAMES)[number];
  scale: number;
  /** Radians, in [0, 2pi). */
  orientation: number;
  /** Centre as a fraction of the image side, in [0.2, 0.8]; y grows downwards. */
  x: number;
  y: number;
}

/** The factor values of a tuple of indices [shape, scale, orientation, posX, posY]. */
export function shapeFactorValues(indices: ArrayLike<number>): ShapeFactors {
  return {
    shape: SHAPE_NAMES[indices[0]],
    scale: 0.5 + (0.5 * indices[1]) / (SHAPE_FACTOR_SIZES[1] - 1),
    orientation: (2 * Math.PI * indices[2]) / SHAPE_FACTOR_SIZES[2],
    x: CENTRE_MIN + (CENTRE_RANGE * indices[3]) / (SHAPE_FACTOR_SIZES[3] - 1),
    y: CENTRE_MIN + (CENTRE_RANGE * indices[4]) / (SHAPE_FACTOR_SIZES[4] - 1),
  };
}

/** Whether (x, y), in the shape's own frame scaled to about [-1, 1]^2 with y up, is inside it. */
const INSIDE: Record<ShapeFactors['shape'], (x: number, y: number) => boolean> = {
  square: (x, y) => Math.abs(x) <= 1 && Math.abs(y) <= 1,
  ellipse: (x, y) => x * x + 4 * y * y <= 1,
  heart: (x, y) => {
    // The sextic heart (x^2 + y^2 - 1)^3 <= x^2 y^3 spans x in [-1.14, 1.14], y in [-1, 1.24];
    // scale and shift it to about [-1, 1]^2, point down.
    const hx = x * 1.14;
    const hy = y * 1.12 + 0.12;
    const r = hx * hx + hy * hy - 1;
    return r * r * r <= hx * hx * hy * hy * hy;
  },
};

/**
 * Renders one shape as a size x size binary image (1 inside, 0 outside; a pixel is inside when
 * its centre is). Writes into `out` at `offset` when given.
 */
export function renderShape(
  indices: ArrayLike<number>,
  size = DEFAULT_SHAPES_SIZE,
  out = new Float32Array(size * size),
  offset = 0,
): Float32Array {
  const f = shapeFactorValues(indices);
  const inside = INSIDE[f.shape];
  const half = HALF_EXTENT * f.scale;
  const cos = Math.cos(f.orientation);
  const sin = Math.sin(f.orientation);
  // Only pixels within the circumradius can be inside; the square's is the largest, sqrt(2) * half.
  const reach = Math.SQRT2 * half;
  const first = (centre: number) => Math.max(0, Math.floor((centre - reach) * size - 0.5));
  const last = (centre: number) => Math.min(size - 1, Math.ceil((centre + reach) * size - 0.5));
  out.fill(0, offset, offset + size * size);
  for (let row = first(f.y); row <= last(f.y); row++) {
    const dy = (row + 0.5) / size - f.y;
    for (let col = first(f.x); col <= last(f.x); col++) {
      const dx = (col + 0.5) / size - f.x;
      // Rotate the pixel into the shape's frame; flip y so that the shape's "up" is the image's up.
      const x = (dx * cos + dy * sin) / half;
      const y = -(-dx * sin + dy * cos) / half;
      if (inside(x, y)) out[offset + row * size + col] = 1;
    }
  }
  return out;
}

/** Index tuple of combination number `n` (shape varies slowest, posY fastest, as in dSprites). */
export function shapeCombination(n: number, out: Int32Array = new Int32Array(5), offset = 0): Int32Array {
  for (let j = SHAPE_FACTOR_SIZES.length - 1; j >= 0; j--) {
    out[offset + j] = n % SHAPE_FACTOR_SIZES[j];
    n = Math.floor(n / SHAPE_FACTOR_SIZES[j]);
  }
  return out;
}

/**
 * `count` distinct factor combinations drawn uniformly without replacement: a partial
 * Fisher-Yates shuffle of 0..737279 that stores only the swapped entries.
 */
export function sampleShapeFactors(count: number, random: Random): Int32Array {
  if (count > SHAPE_COMBINATIONS) {
    throw new DatasetError(
      `Data set 'shapes' has ${SHAPE_COMBINATIONS.toLocaleString('en-US')} factor combinations but ${count} were asked for`,
    );
  }
  const swapped = new Map<number, number>();
  const factors = new Int32Array(count * SHAPE_FACTOR_SIZES.length);
  for (let i = 0; i < count; i++) {
    const j = i + randomInt(random, SHAPE_COMBINATIONS - i);
    const picked = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    shapeCombination(picked, factors, i * SHAPE_FACTOR_SIZES.length);
  }
  return factors;
}

function renderSplit(factors: Int32Array, size: number): Split {
  const count = factors.length / SHAPE_FACTOR_SIZES.length;
  const pixels = new Float32Array(count * size * size);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const tuple = factors.subarray(n * 5, n * 5 + 5);
    renderShape(tuple, size, pixels, n * size * size);
    labels[n] = tuple[0];
  }
  return { pixels, count, labels, factors };
}

/** `count` fresh distinct combinations rendered (the MIG points: eval.migPoints draws from the generator). */
export function generateShapeSet(count: number, random: Random, size = DEFAULT_SHAPES_SIZE): Split {
  return renderSplit(sampleShapeFactors(count, random), size);
}

/** trainSize + testSize distinct combinations, the first trainSize for training. */
export function generateShapes(
  trainSize: number,
  testSize: number,
  random: Random,
  size = DEFAULT_SHAPES_SIZE,
): { train: Split; test: Split } {
  if (!Number.isInteger(size) || size < 8 || size > 512)
    throw new DatasetError(`shapes: image size must be an integer in [8, 512], got ${size}`);
  if (trainSize + testSize > SHAPE_COMBINATIONS) {
    throw new DatasetError(
      `Data set 'shapes' has ${SHAPE_COMBINATIONS.toLocaleString('en-US')} factor combinations but trainSize + testSize asks for ${trainSize} + ${testSize} = ${trainSize + testSize}`,
    );
  }
  const factors = sampleShapeFactors(trainSize + testSize, random);
  return {
    train: renderSplit(factors.slice(0, trainSize * 5), size),
    test: renderSplit(factors.slice(trainSize * 5), size),
  };
}
