// The CLI's --config goes through the same strict root schema as HTTP and IPC, read bounded from a
// regular file, with the file's name in every error; flags are validated before anything is
// stored; `--dataset ''` is refused; a closed pipe ends the CLI quietly. Before issue #13 unknown
// keys, arrays, strings and numbers trained with defaults, and null, truncated files and folders
// gave raw JavaScript errors without the file name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Workbench } from '../../../src-main/workbench/service';
import { BIN, cli, databaseHash, MEMORY_BOUND_MB, ROOT, tempDir, removeTempDirs } from './helpers';

let dir: string;
let db: string;
let dbFile: string;
let before: string;
let runId: string;

beforeAll(async () => {
  dir = tempDir();
  db = join(dir, 'data');
  dbFile = join(db, 'workbench.sqlite');
  // One queued run, so `show` has something to print and the hash covers real rows.
  const workbench = await Workbench.open({ db, runQueue: false });
  runId = (await workbench.createRun({ config: { data: { trainSize: 64, testSize: 32 } } })).id;
  await workbench.close();
  before = databaseHash(dbFile);
}, 60_000);

function refusedConfig(name: string, content: string | null, pattern: RegExp) {
  const file = join(dir, name);
  if (content === null) mkdirSync(file);
  else writeFileSync(file, content);
  const result = cli(db, ['train', '--config', file, '--epochs', '1']);
  expect(result.stderr).toContain(file);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/TypeError|SyntaxError|at .*\.ts:\d+/);
  expect(result.status).toBe(2);
  expect(result.peakMb).toBeLessThan(MEMORY_BOUND_MB);
  expect(databaseHash(dbFile)).toBe(before);
}

afterAll(removeTempDirs);

describe('hostile CLI input', () => {
  it('an unknown top-level key is refused, naming it and the file', () => {
    refusedConfig('unknown.json', '{"model": {"hidden": [16]}, "lr": 0.1}', /Unrecognized key: "lr"/);
  }, 60_000);

  it('[1,2], "hello", 42 and null are refused as not an object, naming the file', () => {
    refusedConfig('array.json', '[1,2]', /must be a JSON object.*found an array/);
    refusedConfig('string.json', '"hello"', /must be a JSON object.*found a string/);
    refusedConfig('number.json', '42', /must be a JSON object.*found a number/);
    refusedConfig('null.json', 'null', /must be a JSON object.*found null/);
  }, 120_000);

  it('a group that is not an object is refused, naming the group', () => {
    refusedConfig('group.json', '{"train": [64]}', /train: expected an object/);
  }, 60_000);

  it('a truncated file and a folder are refused, naming the file', () => {
    refusedConfig('truncated.json', '{"model": {"hidden": [1', /not valid JSON/);
    refusedConfig('folder.json', null, /is a folder; only regular files are read/);
  }, 120_000);

  it('/dev/zero as --config is refused as a device, under the memory bound', () => {
    const result = cli(db, ['train', '--config', '/dev/zero']);
    expect(result.stderr).toMatch(/config file \/dev\/zero is a character device/);
    expect(result.status).toBe(2);
    expect(result.peakMb).toBeLessThan(MEMORY_BOUND_MB);
    expect(databaseHash(dbFile)).toBe(before);
  }, 60_000);

  it("--dataset '' is refused instead of training on the current folder", () => {
    const result = cli(db, ['train', '--dataset', '', '--epochs', '1']);
    expect(result.stderr).toMatch(/--dataset: an empty name/);
    expect(result.status).toBe(2);
    expect(databaseHash(dbFile)).toBe(before);
  }, 60_000);

  it('a bad flag is refused before anything is stored', () => {
    const result = cli(db, ['train', '--epochs', 'many']);
    expect(result.stderr).toMatch(/train\.epochs/);
    expect(result.status).toBe(2);
    expect(databaseHash(dbFile)).toBe(before);
  }, 60_000);

  it('`show RUN | head -3` ends quietly when the reader closes the pipe', () => {
    const show = `"${process.execPath}" "${BIN}" --db "${db}" show ${runId}`;
    // `true` leaves before the CLI has written a line: every write meets a closed pipe.
    for (const pipeline of [`${show} | head -3 >/dev/null`, `sleep 0.5 | ${show} | true`]) {
      const result = spawnSync('bash', ['-o', 'pipefail', '-c', pipeline], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).not.toMatch(/EPIPE|Error/);
      expect(result.status).toBe(0);
    }
  }, 60_000);
});
