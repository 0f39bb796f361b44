// UMAP (McInnes et al. 2018) of the posterior means through umap-js, loaded on demand (it is
// only needed when asked for) and seeded, so the same means give the same picture.

/** mulberry32: a small seeded PRNG in [0, 1), the random source UMAP's layout uses. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 2-D UMAP embedding of count x dims means (row-major); `onProgress` gets the fraction of epochs done. */
export async function umapProject(
  means: ArrayLike<number>,
  count: number,
  dims: number,
  options: { seed?: number; nEpochs?: number; onProgress?: (fraction: number) => void } = {},
): Promise<{ x: Float64Array; y: Float64Array }> {
  const { UMAP } = await import('umap-js');
  const rows: number[][] = [];
  for (let i = 0; i < count; i++) rows.push(Array.from({ length: dims }, (_, j) => means[i * dims + j]));
  const nEpochs = options.nEpochs ?? (count > 1000 ? 200 : 400);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(15, count - 1)),
    minDist: 0.1,
    nEpochs,
    random: seededRandom(options.seed ?? 1),
  });
  const embedding = await umap.fitAsync(rows, (epoch) => {
    options.onProgress?.(epoch / nEpochs);
  });
  return { x: Float64Array.from(embedding, (p) => p[0]), y: Float64Array.from(embedding, (p) => p[1]) };
}
