// Posterior means of test examples per evaluation (the latent-space scatter, issue #15): one
// row per (run, step), the means as little-endian float32 and the labels as int32, row-major.
import type { StoreContext } from './context';
import { requireRun } from './context';

export interface LatentsRecord {
  runId: string;
  step: number;
  epoch: number;
  count: number;
  dims: number;
  means: Float32Array;
  labels: Int32Array | null;
}

export class Latents {
  constructor(private readonly ctx: StoreContext) {}

  /** Stores (or replaces, on a resumed run's re-evaluation) the means of one evaluation. */
  put(record: LatentsRecord): void {
    if (record.means.length !== record.count * record.dims)
      throw new Error(`latents: ${record.means.length} values are not ${record.count} x ${record.dims}`);
    this.ctx.write(() => {
      requireRun(this.ctx, record.runId);
      this.ctx
        .sql(
          'INSERT OR REPLACE INTO latents (run_id, step, epoch, count, dims, means, labels) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          record.runId,
          record.step,
          record.epoch,
          record.count,
          record.dims,
          Buffer.from(record.means.buffer, record.means.byteOffset, record.means.byteLength),
          record.labels ? Buffer.from(record.labels.buffer, record.labels.byteOffset, record.labels.byteLength) : null,
        );
    });
  }

  /** The evaluations with stored means, oldest first. */
  steps(runId: string): { step: number; epoch: number }[] {
    return this.ctx.sql('SELECT step, epoch FROM latents WHERE run_id = ? ORDER BY step').all(runId) as {
      step: number;
      epoch: number;
    }[];
  }

  /** The means at `step`, or at the newest evaluation when step is absent. */
  get(runId: string, step?: number): LatentsRecord | null {
    const row = (
      step === undefined
        ? this.ctx.sql('SELECT * FROM latents WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId)
        : this.ctx.sql('SELECT * FROM latents WHERE run_id = ? AND step = ?').get(runId, step)
    ) as
      | {
          run_id: string;
          step: number;
          epoch: number;
          count: number;
          dims: number;
          means: Buffer;
          labels: Buffer | null;
        }
      | undefined;
    if (!row) return null;
    const copy = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    return {
      runId: row.run_id,
      step: row.step,
      epoch: row.epoch,
      count: row.count,
      dims: row.dims,
      means: new Float32Array(copy(row.means)),
      labels: row.labels ? new Int32Array(copy(row.labels)) : null,
    };
  }
}
