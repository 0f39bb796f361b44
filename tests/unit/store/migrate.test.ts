import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src-main/store/db';
import { DatabaseTooNewError, MigrationsError } from '../../../src-main/store/errors';
import { defaultMigrationsDir, loadMigrations } from '../../../src-main/store/migrate';
import { REPO_ROOT, cleanup, config, countRows, openTempStore, tempDir } from './helpers';

afterEach(cleanup);

const REPO_MIGRATIONS = path.join(REPO_ROOT, 'migrations');
const TABLES = [
  'checkpoints',
  'datasets',
  'experiments',
  'images',
  'latents',
  'metric_rollups',
  'metric_series',
  'metrics',
  'notes',
  'remote_attempts',
  'remote_runs',
  'remote_streams',
  'runs',
  'tags',
  'workspaces',
];

/** How many migrations the repository has, and the file name the next one would take. */
const REPO_VERSION = fs.readdirSync(REPO_MIGRATIONS).filter((name) => /^\d{4}_.+\.sql$/.test(name)).length;
const next = (name: string) => `${String(REPO_VERSION + 1).padStart(4, '0')}_${name}.sql`;

/** A migrations folder holding the repository's files plus `extra` (name -> SQL). */
function migrationsDirWith(extra: Record<string, string>): string {
  const dir = tempDir();
  for (const name of fs.readdirSync(REPO_MIGRATIONS))
    fs.copyFileSync(path.join(REPO_MIGRATIONS, name), path.join(dir, name));
  for (const [name, sql] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

describe('migrations', () => {
  it('a fresh database reaches one version per migration file, with every table, in WAL with foreign keys on', () => {
    const files = fs.readdirSync(REPO_MIGRATIONS).filter((name) => /^\d{4}_.+\.sql$/.test(name));
    const store = openTempStore();
    expect(store.schemaVersion).toBe(files.length);
    const tables = store.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(TABLES);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('the default folder is the repository migrations/, and VAE_WORKBENCH_MIGRATIONS overrides it', () => {
    expect(defaultMigrationsDir()).toBe(REPO_MIGRATIONS);
    const other = migrationsDirWith({});
    process.env.VAE_WORKBENCH_MIGRATIONS = other;
    try {
      expect(defaultMigrationsDir()).toBe(other);
    } finally {
      delete process.env.VAE_WORKBENCH_MIGRATIONS;
    }
  });

  it('reopening an up-to-date database applies nothing and keeps its rows', () => {
    const store = openTempStore();
    store.runs.create({ config: config() });
    store.close();
    const again = openTempStore({}, store.file);
    expect(again.schemaVersion).toBe(loadMigrations().length);
    expect(countRows(again, 'runs')).toBe(1);
  });

  it('upgrades a database at the repository version by one more file, keeping its data', () => {
    const v1 = openTempStore();
    const run = v1.runs.create({ config: config(), experimentName: 'baseline', tags: ['a'] });
    v1.metricsWriter.append([{ runId: run.id, name: 'train/loss', step: 1, epoch: 0, value: 2.5, wallTime: 1 }]);
    v1.close();
    const dir = migrationsDirWith({
      [next('run_colour')]: `
        ALTER TABLE runs ADD COLUMN colour TEXT NOT NULL DEFAULT '#888888';
        CREATE TABLE bookmarks (run_id TEXT REFERENCES runs (id) ON DELETE CASCADE, step INTEGER);`,
    });
    const v2 = openTempStore({ migrationsDir: dir }, v1.file);
    expect(v2.schemaVersion).toBe(REPO_VERSION + 1);
    expect(v2.db.prepare('SELECT colour FROM runs WHERE id = ?').pluck().get(run.id)).toBe('#888888');
    expect(countRows(v2, 'bookmarks')).toBe(0);
    const kept = v2.runs.get(run.id)!;
    expect([kept.experiment, kept.tags, v2.metrics.finalMetrics(run.id)['train/loss'].value]).toEqual([
      'baseline',
      ['a'],
      2.5,
    ]);
  });

  it('a migration that fails rolls back whole and leaves the version where it was', () => {
    const v1 = openTempStore();
    v1.close();
    const dir = migrationsDirWith({
      [next('broken')]: 'CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);',
    });
    expect(() => openStore(v1.file, { migrationsDir: dir })).toThrow(MigrationsError);
    const db = new Database(v1.file);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(REPO_VERSION);
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer app with DatabaseTooNewError and leaves its bytes unchanged', () => {
    const file = path.join(tempDir(), 'newer.sqlite');
    const db = new Database(file);
    db.exec("CREATE TABLE future (x); INSERT INTO future VALUES ('from the future');");
    db.pragma(`user_version = ${REPO_VERSION + 1}`);
    db.close();
    const before = fs.readFileSync(file);

    let error: unknown;
    try {
      openStore(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DatabaseTooNewError);
    const tooNew = error as DatabaseTooNewError;
    expect([tooNew.file, tooNew.fileVersion, tooNew.appVersion]).toEqual([
      file,
      REPO_VERSION + 1,
      loadMigrations().length,
    ]);
    expect(tooNew.message).toContain(file);
    expect(tooNew.message).toMatch(new RegExp(`version ${REPO_VERSION + 1}.*up to ${REPO_VERSION}`));
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('migration files must be numbered without gaps', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '0001_a.sql'), 'SELECT 1;');
    fs.writeFileSync(path.join(dir, '0003_c.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow(/0003_c\.sql at position 2/);
    expect(() => loadMigrations(tempDir())).toThrow(MigrationsError);
  });
});
