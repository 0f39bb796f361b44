// What people attach to runs: tags and a free-text note.
import type { StoreContext } from './context';
import { requireRun, requireText } from './context';

export interface Note {
  runId: string;
  text: string;
  updatedAt: number;
}

export class Tags {
  constructor(private readonly ctx: StoreContext) {}

  /** Adds tags (trimmed; ones the run already has are skipped). Returns the run's tags. */
  add(runId: string, tags: readonly string[]): string[] {
    const clean = tags.map((tag) => requireText(tag, 'Tag'));
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      const insert = this.ctx.sql('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      for (const tag of clean) insert.run(runId, tag);
      return this.list(runId);
    });
  }

  /** Returns whether the run had the tag. */
  remove(runId: string, tag: string): boolean {
    return this.ctx.write(
      () => this.ctx.sql('DELETE FROM tags WHERE run_id = ? AND tag = ?').run(runId, tag.trim()).changes > 0,
    );
  }

  list(runId: string): string[] {
    return this.ctx.sql('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag').pluck().all(runId) as string[];
  }

  /** Every tag in use, with how many runs carry it. */
  all(): { tag: string; runCount: number }[] {
    return this.ctx.sql('SELECT tag, count(*) AS runCount FROM tags GROUP BY tag ORDER BY tag').all() as {
      tag: string;
      runCount: number;
    }[];
  }
}

export class Notes {
  constructor(private readonly ctx: StoreContext) {}

  get(runId: string): Note | null {
    return (
      (this.ctx
        .sql('SELECT run_id AS runId, text, updated_at AS updatedAt FROM notes WHERE run_id = ?')
        .get(runId) as Note) ?? null
    );
  }

  /** Sets the run's note; empty (or blank) text removes it. */
  set(runId: string, text: string): Note | null {
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      if (text.trim().length === 0) {
        this.ctx.sql('DELETE FROM notes WHERE run_id = ?').run(runId);
        return null;
      }
      this.ctx
        .sql(
          `INSERT INTO notes (run_id, text, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (run_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
        )
        .run(runId, text, Date.now());
      return this.get(runId);
    });
  }
}
