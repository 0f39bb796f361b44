// Shared by the store tests: temporary databases that are removed after each test, a seeded
// random generator, and a way to run a store script in a separate process (a second app/CLI).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../../src-main/api/config';
import { openStore, type Store, type StoreOptions } from '../../../src-main/store/db';
import type { MetricPoint } from '../../../src-main/store/metrics';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

const dirs: string[] = [];
const stores: Store[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-store-test-'));
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
): MetricPoint[] {
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

/** Runs a fixture script under tsx in a child process; resolves with its parsed JSON output. */
export function runFixture<T>(
  script: string,
  args: string[],
  options: { uid?: number; gid?: number } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(FIXTURES, script), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
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
