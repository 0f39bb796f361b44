// Comparisons of float arrays that the kernel tests share.

/** max_i |actual_i - expected_i| / max_i |expected_i|: one scale for the whole array, so near-zero entries do not dominate. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length)
    throw new Error(`relativeError: ${actual.length} values against ${expected.length} expected`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-30);
}
