// Saved workspaces: the view state a person arranged (selection, colours, layout), one JSON
// document per name. The shape is checked by the API's schema; the store keeps the text.
import type { StoreContext } from './context';
import { requireText } from './context';
import { InvalidInputError } from './errors';

export interface SavedWorkspace {
  name: string;
  state: unknown;
  updatedAt: number;
}

/** A workspace document at most this long (JSON characters). */
export const MAX_WORKSPACE_CHARS = 1_000_000;

export class Workspaces {
  constructor(private readonly ctx: StoreContext) {}

  get(name: string): SavedWorkspace | null {
    const row = this.ctx
      .sql('SELECT name, state, updated_at AS updatedAt FROM workspaces WHERE name = ?')
      .get(requireText(name, 'Workspace name')) as { name: string; state: string; updatedAt: number } | undefined;
    return row ? { name: row.name, state: JSON.parse(row.state) as unknown, updatedAt: row.updatedAt } : null;
  }

  /** Replaces the named workspace's state. */
  set(name: string, state: unknown, now = Date.now()): SavedWorkspace {
    const text = JSON.stringify(state);
    if (text === undefined || text.length > MAX_WORKSPACE_CHARS)
      throw new InvalidInputError(`Workspace '${name}' is larger than ${MAX_WORKSPACE_CHARS} characters of JSON`);
    const clean = requireText(name, 'Workspace name');
    this.ctx.write(() =>
      this.ctx
        .sql(
          'INSERT INTO workspaces (name, state, updated_at) VALUES (?, ?, ?) ' +
            'ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
        )
        .run(clean, text, now),
    );
    return { name: clean, state, updatedAt: now };
  }
}
