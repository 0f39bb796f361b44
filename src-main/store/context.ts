// What every entity module shares: the connection, the file name for error messages, and one way
// to write.
import type Database from 'better-sqlite3';
import { InvalidInputError, NotFoundError, translateError } from './errors';

export interface StoreContext {
  readonly db: Database.Database;
  readonly file: string;
  readonly appVersion: string;
  /** "host:pid", recorded as the owner of runs this process moves to 'running'. */
  readonly processToken: string;
  /**
   * Runs fn in one IMMEDIATE transaction (nested calls become savepoints). IMMEDIATE takes the
   * write lock up front, so a second connection waits out busy_timeout instead of failing with
   * SQLITE_BUSY_SNAPSHOT when its read turns into a write. Disk-full and read-only failures come
   * out as StoreFullError / StoreNotWritableError.
   */
  write<T>(fn: () => T): T;
  /** A prepared statement, compiled once per connection. Plucked/raw use of a text must be consistent. */
  sql(text: string): Database.Statement;
}

export function createContext(
  db: Database.Database,
  file: string,
  appVersion: string,
  processToken: string,
): StoreContext {
  const transaction = db.transaction((fn: () => unknown) => fn());
  const statements = new Map<string, Database.Statement>();
  return {
    db,
    file,
    appVersion,
    processToken,
    write<T>(fn: () => T): T {
      try {
        return transaction.immediate(fn) as T;
      } catch (error) {
        throw translateError(error, file);
      }
    },
    sql(text: string): Database.Statement {
      let statement = statements.get(text);
      if (!statement) statements.set(text, (statement = db.prepare(text)));
      return statement;
    },
  };
}

export function requireRun(ctx: StoreContext, runId: string): void {
  if (!ctx.sql('SELECT 1 FROM runs WHERE id = ?').get(runId)) {
    throw new NotFoundError(`No run with id '${runId}' in ${ctx.file}.`);
  }
}

export function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim().length === 0)
    throw new InvalidInputError(`${what} must be a non-empty string.`);
  return value.trim();
}

export function requireStep(value: unknown, what = 'step'): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidInputError(`${what} must be a whole number >= 0, got ${String(value)}.`);
  }
  return value as number;
}
