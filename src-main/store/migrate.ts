// Schema migrations in Signal Desktop's style: an ordered list of steps keyed by PRAGMA
// user_version; each step runs in its own transaction that also bumps user_version, so a crash
// leaves the database at a whole version. A database newer than the app is refused, never altered.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { DatabaseTooNewError, MigrationsError, translateError } from './errors';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
}

export interface MigrationResult {
  from: number;
  to: number;
  /** File names applied, in order. */
  applied: string[];
}

const MIGRATION_FILE = /^(\d{4})_([\w-]+)\.sql$/;

/**
 * The migrations folder when none is given: $VAE_WORKBENCH_MIGRATIONS, else the first `migrations`
 * folder holding a NNNN_*.sql file found walking up from this module. From source that is the
 * repository's `migrations/`; a bundle finds the copy placed next to it (out/main/migrations).
 */
export function defaultMigrationsDir(): string {
  const fromEnv = process.env.VAE_WORKBENCH_MIGRATIONS;
  if (fromEnv) return path.resolve(fromEnv);
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'migrations');
    if (hasMigrationFiles(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new MigrationsError(
    `No migrations folder found above ${start}. Set VAE_WORKBENCH_MIGRATIONS or pass migrationsDir to openStore.`,
  );
}

function hasMigrationFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((name) => MIGRATION_FILE.test(name));
  } catch {
    return false;
  }
}

/** Reads NNNN_name.sql files in order; they must be numbered 1..N without gaps or repeats. */
export function loadMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    throw new MigrationsError(`Cannot read the migrations folder ${dir}: ${(error as Error).message}`, error);
  }
  const migrations = names
    .map((name) => ({ name, match: MIGRATION_FILE.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ name, match }) => ({
      version: Number(match[1]),
      name,
      file: path.join(dir, name),
      sql: fs.readFileSync(path.join(dir, name), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
  if (migrations.length === 0) throw new MigrationsError(`The migrations folder ${dir} holds no NNNN_name.sql files.`);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationsError(
        `Migrations in ${dir} must be numbered 0001, 0002, ... without gaps or repeats; found ${migration.name} at position ${index + 1}.`,
      );
    }
  });
  return migrations;
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throws DatabaseTooNewError, before anything writes to the file, if it is newer than `migrations`. */
export function assertNotTooNew(db: Database.Database, migrations: Migration[], file: string): number {
  const version = schemaVersion(db);
  if (version > migrations.length) throw new DatabaseTooNewError(file, version, migrations.length);
  return version;
}

/**
 * Applies the migrations the database lacks. Foreign keys are off while migrating (SQLite's
 * recommended way to rebuild tables) and checked with foreign_key_check before each commit.
 */
export function migrate(db: Database.Database, migrations: Migration[], file = db.name): MigrationResult {
  const from = assertNotTooNew(db, migrations, file);
  const pending = migrations.filter((m) => m.version > from);
  if (pending.length === 0) return { from, to: from, applied: [] };

  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF'); // a no-op inside a transaction, so it is set here
  try {
    for (const migration of pending) {
      db.transaction(() => {
        // Re-read under the write lock: another process may have migrated meanwhile.
        if (schemaVersion(db) >= migration.version) return;
        try {
          db.exec(migration.sql);
        } catch (error) {
          const known = translateError(error, file); // a full disk is not the migration's fault
          if (known !== error) throw known;
          throw new MigrationsError(`Migration ${migration.file} failed: ${(error as Error).message}`, error);
        }
        const violations = db.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) {
          throw new MigrationsError(`Migration ${migration.file} left ${violations.length} foreign key violation(s).`);
        }
        db.pragma(`user_version = ${migration.version}`);
      }).immediate();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return { from, to: schemaVersion(db), applied: pending.map((m) => m.name) };
}
