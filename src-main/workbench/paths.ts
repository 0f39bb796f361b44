// Where the workbench keeps its data: the same per-user folder for the desktop app, the CLI and
// browser mode, so runs started anywhere show up everywhere.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const APP_FOLDER_NAME = 'vae-workbench';
export const DB_FILE_NAME = 'workbench.sqlite';

/** Electron's app.getPath('userData') for this app name, computed without Electron. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.VAE_WORKBENCH_HOME) return resolve(env.VAE_WORKBENCH_HOME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_FOLDER_NAME);
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_FOLDER_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_FOLDER_NAME);
}

export interface DataPaths {
  dataDir: string;
  dbFile: string;
  checkpointsDir: string;
  /** Imported data sets (issue #13): <dataDir>/datasets/<id>.<format>. */
  datasetsDir: string;
}

/** `--db PATH`: a .sqlite/.db file (its folder holds checkpoints) or a data folder. */
export function resolveDataPaths(dbOption?: string, env: NodeJS.ProcessEnv = process.env): DataPaths {
  if (dbOption && /\.(sqlite3?|db)$/i.test(dbOption)) {
    const dbFile = resolve(dbOption);
    const dataDir = dirname(dbFile);
    return { dataDir, dbFile, checkpointsDir: join(dataDir, 'checkpoints'), datasetsDir: join(dataDir, 'datasets') };
  }
  const dataDir = dbOption ? resolve(dbOption) : defaultDataDir(env);
  return {
    dataDir,
    dbFile: join(dataDir, DB_FILE_NAME),
    checkpointsDir: join(dataDir, 'checkpoints'),
    datasetsDir: join(dataDir, 'datasets'),
  };
}
