// Experiments: named groups of runs.
import type { StoreContext } from './context';
import { requireText } from './context';
import { InvalidInputError } from './errors';

export interface Experiment {
  id: number;
  name: string;
  description: string;
  createdAt: number;
}

export interface ExperimentListItem extends Experiment {
  runCount: number;
}

const COLUMNS = 'id, name, description, created_at AS createdAt';

export class Experiments {
  constructor(private readonly ctx: StoreContext) {}

  /** Creates an experiment; a name already taken is an InvalidInputError. */
  create(name: string, description = ''): Experiment {
    const clean = requireText(name, 'Experiment name');
    return this.ctx.write(() => {
      if (this.get(clean)) throw new InvalidInputError(`An experiment named '${clean}' already exists.`);
      const { lastInsertRowid } = this.ctx
        .sql('INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)')
        .run(clean, description, Date.now());
      return this.get(Number(lastInsertRowid))!;
    });
  }

  getOrCreate(name: string): Experiment {
    const clean = requireText(name, 'Experiment name');
    return this.ctx.write(() => this.get(clean) ?? this.create(clean));
  }

  /** By id or by exact name. */
  get(idOrName: number | string): Experiment | null {
    const column = typeof idOrName === 'number' ? 'id' : 'name';
    return (this.ctx.sql(`SELECT ${COLUMNS} FROM experiments WHERE ${column} = ?`).get(idOrName) as Experiment) ?? null;
  }

  list(): ExperimentListItem[] {
    return this.ctx
      .sql(
        `SELECT ${COLUMNS}, (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id) AS runCount
         FROM experiments e ORDER BY name`,
      )
      .all() as ExperimentListItem[];
  }
}
