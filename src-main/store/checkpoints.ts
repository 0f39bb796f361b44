// Checkpoint rows: where a run's saved weights are and how to verify them. The files themselves
// belong to the caller; deleting a run hands their paths back.
import type { CheckpointInfo, CheckpointKind } from '../api/contract';
import type { StoreContext } from './context';
import { requireRun, requireStep, requireText } from './context';
import { InvalidInputError } from './errors';

export type { CheckpointKind };

/** A checkpoint row: the API's CheckpointInfo plus the run it belongs to and where its file is. */
export interface Checkpoint extends CheckpointInfo {
  runId: string;
  path: string;
}

export type NewCheckpoint = Omit<Checkpoint, 'id' | 'createdAt'>;

const COLUMNS = 'id, run_id AS runId, step, epoch, kind, path, size, sha256, created_at AS createdAt';

export class Checkpoints {
  constructor(private readonly ctx: StoreContext) {}

  add(checkpoint: NewCheckpoint): Checkpoint {
    const { runId, step, epoch, kind, size, sha256 } = checkpoint;
    const path = requireText(checkpoint.path, 'Checkpoint path');
    requireStep(step);
    if (!['latest', 'best', 'epoch'].includes(kind))
      throw new InvalidInputError(`Checkpoint kind must be latest, best or epoch, got '${kind}'.`);
    if (!/^[0-9a-f]{64}$/.test(sha256))
      throw new InvalidInputError(`Checkpoint sha256 must be 64 lowercase hex digits, got '${sha256}'.`);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new InvalidInputError(`Checkpoint size must be a whole number of bytes, got ${size}.`);
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      const { lastInsertRowid } = this.ctx
        .sql(
          'INSERT INTO checkpoints (run_id, step, epoch, kind, path, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(runId, step, epoch, kind, path, size, sha256, Date.now());
      return this.ctx.sql(`SELECT ${COLUMNS} FROM checkpoints WHERE id = ?`).get(lastInsertRowid) as Checkpoint;
    });
  }

  /** By step, oldest first. */
  list(runId: string, kind?: CheckpointKind): Checkpoint[] {
    return this.ctx
      .sql(
        `SELECT ${COLUMNS} FROM checkpoints WHERE run_id = @runId AND (@kind IS NULL OR kind = @kind) ORDER BY step, id`,
      )
      .all({ runId, kind: kind ?? null }) as Checkpoint[];
  }

  /** The checkpoint with the highest step (the newest row on a tie), of any kind unless one is given. */
  latest(runId: string, kind?: CheckpointKind): Checkpoint | null {
    return (
      (this.ctx
        .sql(
          `SELECT ${COLUMNS} FROM checkpoints WHERE run_id = @runId AND (@kind IS NULL OR kind = @kind) ORDER BY step DESC, id DESC LIMIT 1`,
        )
        .get({ runId, kind: kind ?? null }) as Checkpoint) ?? null
    );
  }

  /** Removes one row (retention pruning) and returns its file path for the caller to delete, or null. */
  delete(id: number): string | null {
    return this.ctx.write(() => {
      const path = this.ctx.sql('SELECT path FROM checkpoints WHERE id = ?').pluck().get(id) as string | undefined;
      if (path === undefined) return null;
      this.ctx.sql('DELETE FROM checkpoints WHERE id = ?').run(id);
      return path;
    });
  }
}
