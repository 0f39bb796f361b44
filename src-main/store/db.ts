// Opening the store: one SQLite file in WAL mode, migrated to the app's schema before use.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Notes, Tags } from './annotations';
import { Checkpoints } from './checkpoints';
import { createContext, type StoreContext } from './context';
import { Datasets } from './datasets'; // issue #13
import { translateError } from './errors';
import { Experiments } from './experiments';
import { Images } from './images';
import { MetricsReader, MetricsWriter } from './metrics';
import { assertNotTooNew, loadMigrations, migrate, schemaVersion } from './migrate';
import { Runs } from './runs';
import { Latents } from './latents'; // latent-space scatter (issue #15, h-views)
import { Workspaces } from './workspaces'; // saved workspaces (issue #15, h-views)
import { RemoteRuns } from './remote'; // runs trained over a queue (issue #18, h-queue)

export interface StoreOptions {
  /** Folder of NNNN_name.sql files; defaults to defaultMigrationsDir(). */
  migrationsDir?: string;
  /** Recorded on each new run (default 'dev'). */
  appVersion?: string;
  /** How long a write waits for another connection's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /**
   * Path of a better_sqlite3.node built for the running runtime: one checkout serves Node (tests,
   * CLI) and Electron, whose NODE_MODULE_VERSIONs differ. Default: the one next to the package.
   */
  nativeBinding?: string;
}

export class Store {
  readonly experiments: Experiments;
  readonly runs: Runs;
  readonly tags: Tags;
  readonly notes: Notes;
  readonly images: Images;
  readonly checkpoints: Checkpoints;
  readonly metrics: MetricsReader;
  readonly metricsWriter: MetricsWriter;
  /** Imported data sets (issue #13). */
  readonly datasets: Datasets;
  readonly workspaces: Workspaces; // issue #15, h-views
  readonly latents: Latents; // issue #15, h-views
  readonly remote: RemoteRuns; // issue #18, h-queue

  constructor(private readonly ctx: StoreContext) {
    this.experiments = new Experiments(ctx);
    this.metricsWriter = new MetricsWriter(ctx);
    this.metrics = new MetricsReader(ctx);
    this.runs = new Runs(ctx, this.experiments, this.metricsWriter);
    this.tags = new Tags(ctx);
    this.notes = new Notes(ctx);
    this.images = new Images(ctx);
    this.checkpoints = new Checkpoints(ctx);
    this.datasets = new Datasets(ctx); // issue #13
    this.workspaces = new Workspaces(ctx); // issue #15, h-views
    this.latents = new Latents(ctx); // issue #15, h-views
    this.remote = new RemoteRuns(ctx, this.runs, this.metricsWriter); // issue #18, h-queue
  }

  /** Absolute path of the database file. */
  get file(): string {
    return this.ctx.file;
  }

  get schemaVersion(): number {
    return schemaVersion(this.ctx.db);
  }

  /** The connection itself, for tests and benchmarks inside the store layer; other layers use the methods. */
  get db(): Database.Database {
    return this.ctx.db;
  }

  /** Runs several store calls as one transaction. */
  transaction<T>(fn: () => T): T {
    return this.ctx.write(fn);
  }

  close(): void {
    if (!this.ctx.db.open) return;
    try {
      this.ctx.db.pragma('optimize'); // cheap upkeep of planner statistics, as SQLite advises on close
    } catch {
      // a read-only or full disk must not stop the close
    }
    this.ctx.db.close();
  }
}

/**
 * Opens (creating if needed) the database at `file`: creates its folder, refuses a database from
 * a newer app before changing a byte of it, then sets WAL, foreign keys, busy_timeout and
 * synchronous=NORMAL and applies pending migrations. Failures come out as StoreNotWritableError,
 * StoreFullError, StoreCorruptError or DatabaseTooNewError, each naming the path and what to do.
 */
export function openStore(file: string, options: StoreOptions = {}): Store {
  const resolved = path.resolve(file);
  const migrations = loadMigrations(options.migrationsDir);
  let db: Database.Database;
  try {
    fs.mkdirSync(path.dirname(resolved), { recursive: true });
    db = new Database(resolved, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  } catch (error) {
    throw translateError(error, resolved);
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    assertNotTooNew(db, migrations, resolved);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // with WAL: durable across app crashes; a power cut may lose the last commits
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, resolved);
    probeWritable(db);
  } catch (error) {
    db.close();
    throw translateError(error, resolved);
  }
  return new Store(createContext(db, resolved, options.appVersion ?? 'dev', `${os.hostname()}:${process.pid}`));
}

/**
 * SQLite quietly opens a file it may not write read-only, and a migrated WAL database needs no
 * write to open, so try one (rolled back) here: a read-only file fails at open, not mid-run.
 */
function probeWritable(db: Database.Database): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('CREATE TABLE main.write_probe (x)');
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}
