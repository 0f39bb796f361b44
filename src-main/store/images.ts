// Image grids (samples, reconstructions, latent traversals) as PNG blobs. Listings never read the
// blobs; only get() does.
import { hasPngSignature } from 'fast-png';
import type { ImageKind, ImageMeta } from '../api/contract';
import type { StoreContext } from './context';
import { requireRun, requireStep, requireText } from './context';
import { InvalidInputError } from './errors';

export type { ImageKind, ImageMeta };

export interface StoredImage extends ImageMeta {
  png: Uint8Array;
}

export interface NewImage {
  runId: string;
  step: number;
  epoch: number;
  kind: ImageKind;
  png: Uint8Array;
  width: number;
  height: number;
}

// length() of a blob reads the record header only, not the blob's pages.
const META = 'id, run_id AS runId, step, epoch, kind, width, height, length(png) AS bytes, created_at AS createdAt';

export class Images {
  constructor(private readonly ctx: StoreContext) {}

  add(image: NewImage): ImageMeta {
    const { runId, step, epoch, png, width, height } = image;
    const kind = requireText(image.kind, 'Image kind');
    requireStep(step);
    if (!hasPngSignature(png)) {
      throw new InvalidInputError(
        `The ${kind} image of run ${runId} at step ${step} is not a PNG (encode the grid before storing it).`,
      );
    }
    for (const [what, size] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isSafeInteger(size) || size < 1)
        throw new InvalidInputError(`Image ${what} must be a whole number >= 1, got ${size}.`);
    }
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      const { lastInsertRowid } = this.ctx
        .sql(
          'INSERT INTO images (run_id, step, epoch, kind, width, height, created_at, png) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          runId,
          step,
          epoch,
          kind,
          width,
          height,
          Date.now(),
          Buffer.from(png.buffer, png.byteOffset, png.byteLength),
        );
      return this.ctx.sql(`SELECT ${META} FROM images WHERE id = ?`).get(lastInsertRowid) as ImageMeta;
    });
  }

  /** The run's images without their PNG bytes, by kind then step. */
  list(runId: string, kind?: ImageKind): ImageMeta[] {
    return this.ctx
      .sql(
        `SELECT ${META} FROM images WHERE run_id = @runId AND (@kind IS NULL OR kind = @kind) ORDER BY kind, step, id`,
      )
      .all({ runId, kind: kind ?? null }) as ImageMeta[];
  }

  /** One image with its PNG bytes. */
  get(id: number): StoredImage | null {
    return (this.ctx.sql(`SELECT ${META}, png FROM images WHERE id = ?`).get(id) as StoredImage) ?? null;
  }

  /** The newest image of each kind. */
  latest(runId: string): ImageMeta[] {
    return this.atOrBefore(runId, Number.MAX_SAFE_INTEGER);
  }

  /** For each kind, the image with the highest step <= step (what a step slider shows). */
  atOrBefore(runId: string, step: number): ImageMeta[] {
    // SQLite takes the bare columns of an aggregate query from the row holding max(): one image per kind.
    return (
      this.ctx
        .sql(
          `SELECT ${META}, max(step) AS maxStep FROM images WHERE run_id = ? AND step <= ?
           GROUP BY kind ORDER BY kind`,
        )
        .all(runId, step) as (ImageMeta & { maxStep: number })[]
    ).map(({ maxStep: _, ...meta }) => meta);
  }
}
