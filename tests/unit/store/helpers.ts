// Shared by the store tests: temporary databases that are removed after each test, a seeded
// random generator, and a way to run a store script in a separate process (a second app/CLI).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../../src-main/api/config';
import { openStore, type Store, type StoreOptions } from '../../../src-main/store/db';
import type { RunMetricPoint } from '../../../src-main/store/metrics';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

const dirs: string[] = [];
const stores: Store[] = [];

/**
 * A temporary folder every user can reach: os.tmpdir() when each folder above it lets others
 * through (o+x), else /tmp. Tests that act as user nobody must not depend on where the clone or
 * $TMPDIR sits (a clone under a 0700 folder is out of nobody's reach).
 */
export function sharedTmpRoot(): string {
  const base = path.resolve(os.tmpdir());
  for (let dir = base; ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return '/tmp';
    if (path.dirname(dir) === dir) return base;
  }
}

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(sharedTmpRoot(), 'vae-store-test-'));
  dirs.push(dir);
  return dir;
}

export function openTempStore(options: StoreOptions = {}, file = path.join(tempDir(), 'workbench.sqlite')): Store {
  const store = openStore(file, options);
  stores.push(store);
  return store;
}

/** Opens another Store on the same file, as the CLI next to the app would. */
export function openAgain(store: Store, options: StoreOptions = {}): Store {
  return openTempStore(options, store.file);
}

/** For afterEach: closes every store opened through these helpers and removes their folders. */
export function cleanup(): void {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) {
    fs.chmodSync(dir, 0o700);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function config(input: RunConfigInput = {}): RunConfig {
  return parseRunConfig(input);
}

/** mulberry32: a small seeded generator, so every test run sees the same "random" data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seriesPoints(
  runId: string,
  name: string,
  steps: Iterable<number>,
  value: (step: number) => number,
): RunMetricPoint[] {
  return [...steps].map((step) => ({
    runId,
    name,
    step,
    epoch: Math.floor(step / 100),
    value: value(step),
    wallTime: 1_700_000_000_000 + step,
  }));
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

export function countRows(store: Store, table: string, where = '1', ...params: unknown[]): number {
  return store.db
    .prepare(`SELECT count(*) FROM ${table} WHERE ${where}`)
    .pluck()
    .get(...params) as number;
}

/**
 * A copy of a fixture that another user can run from a folder they can reach: the script bundled
 * into one .mjs file (esbuild, the bundler tsx itself runs on), better-sqlite3 and the migrations
 * copied beside it. Nothing of it is read from the clone, whose folders may be closed to others.
 */
async function stageFixture(script: string): Promise<{ entry: string; dir: string; env: NodeJS.ProcessEnv }> {
  const { build } = await import('esbuild');
  const dir = fs.mkdtempSync(path.join(sharedTmpRoot(), 'vae-store-fixture-'));
  dirs.push(dir);
  fs.chmodSync(dir, 0o755);
  const entry = path.join(dir, `${path.basename(script, '.ts')}.mjs`);
  await build({
    entryPoints: [path.join(FIXTURES, script)],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['better-sqlite3'],
    logLevel: 'error',
  });
  const modules = path.join(REPO_ROOT, 'node_modules');
  for (const name of ['better-sqlite3/package.json', 'better-sqlite3/lib', 'bindings', 'file-uri-to-path']) {
    fs.cpSync(path.join(modules, name), path.join(dir, 'node_modules', name), { recursive: true });
  }
  const addon = 'better-sqlite3/build/Release/better_sqlite3.node';
  fs.cpSync(path.join(modules, addon), path.join(dir, 'node_modules', addon));
  fs.cpSync(path.join(REPO_ROOT, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
  for (const file of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    fs.chmodSync(path.join(file.parentPath, file.name), file.isDirectory() ? 0o755 : 0o644);
  }
  return { entry, dir, env: { VAE_WORKBENCH_MIGRATIONS: path.join(dir, 'migrations') } };
}

/**
 * Runs a fixture script under tsx in a child process; resolves with its parsed JSON output. With a
 * uid, the script runs from a staged copy (stageFixture) so the other user needs no access to the clone.
 */
export async function runFixture<T>(
  script: string,
  args: string[],
  options: { uid?: number; gid?: number } = {},
): Promise<T> {
  const staged = options.uid === undefined ? null : await stageFixture(script);
  return new Promise((resolve, reject) => {
    const argv = staged ? [staged.entry, ...args] : ['--import', 'tsx', path.join(FIXTURES, script), ...args];
    const child = spawn(process.execPath, argv, {
      cwd: staged ? staged.dir : REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...staged?.env },
      ...options,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as T);
      } catch {
        reject(new Error(`${script} printed no JSON: ${stdout} ${stderr}`));
      }
    });
  });
}
