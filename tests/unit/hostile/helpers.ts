// Shared by the hostile-input tests: hostile files built in a temporary folder, a child process
// whose peak memory is measured, a hash of a database's whole content, and a browser-mode server
// in a child process with its peak memory read from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, createDeflateRaw } from 'node:zlib';
import Database from 'better-sqlite3';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'vae-workbench.js');
const PRELOAD = join(import.meta.dirname, 'maxrss.mjs');
/** The memory bound every hostile input must stay under. */
export const MEMORY_BOUND_MB = 512;

const created: string[] = [];

export function tempDir(prefix = 'vaewb-hostile-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes the folders tempDir made (call in afterAll, after closing what uses them). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS of the whole child process (all threads), in MB. */
  peakMb: number;
  ms: number;
}

/** Runs `node <args>` with the maxRSS preload; its peak memory comes back in MB. */
export function runMeasured(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; input?: string } = {},
): ChildResult {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', PRELOAD, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    input: options.input,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const match = /MAXRSS_KB=(\d+)/.exec(result.stderr ?? '');
  return {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: (result.stderr ?? '').replace(/\n?MAXRSS_KB=\d+\n/, ''),
    peakMb: match ? Number(match[1]) / 1024 : Number.NaN,
    ms: Date.now() - started,
  };
}

/** The CLI as a user runs it, measured. */
export function cli(db: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): ChildResult {
  return runMeasured([BIN, '--db', db, ...args], options);
}

/** sha256 of every row of every table (a logical dump), or 'no database' when there is none. */
export function databaseHash(file: string): string {
  if (!existsSync(file)) return 'no database';
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    for (const table of tables) {
      hash.update(`table ${table}\n`);
      const rows = (db.prepare(`SELECT * FROM "${table}"`).raw().all() as unknown[][]).map((row) =>
        JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)),
      );
      for (const row of rows.sort()) hash.update(`${row}\n`);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

/**
 * Raw deflate data that inflates to `prefix` followed by `zeroMiB` MiB of zeros, built without
 * compressing them: after a full flush the compressor forgets its window, so every further MiB of
 * zeros deflates to the same bytes, which are repeated. A few MB inflate to gigabytes.
 */
export async function deflatedZeros(zeroMiB: number, prefix: Uint8Array = new Uint8Array(0)): Promise<Buffer> {
  const mib = Buffer.alloc(1 << 20);
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const flush = () => new Promise<void>((resolve) => deflate.flush(constants.Z_FULL_FLUSH, () => resolve()));
  deflate.write(Buffer.concat([prefix, mib]));
  await flush();
  const first = Buffer.concat(parts.splice(0));
  deflate.write(mib);
  await flush();
  const repeated = Buffer.concat(parts.splice(0));
  deflate.end();
  await new Promise((resolve) => deflate.on('end', resolve));
  const end = Buffer.concat(parts.splice(0));
  return Buffer.concat([first, ...Array<Buffer>(Math.max(0, zeroMiB - 1)).fill(repeated), end]);
}

/** A gzip member around raw deflate data (the CRC is left 0: a reader that inflates it all fails only at the end). */
export function gzipOf(deflated: Buffer, size: number): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(0, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return Buffer.concat([header, deflated, trailer]);
}

/** A zip of deflated entries (no CRC, no comment), as another tool might write one. */
export function zipOf(entries: { name: string; data: Buffer; size: number; method?: 0 | 8 }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const method = entry.method ?? 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += 30 + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Peak resident memory (VmHWM) of a live process, in MB. */
export function peakMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

export interface ServerChild {
  url: string;
  token: string;
  pid: number;
  dbFile: string;
  stop(): Promise<void>;
}

/** Browser mode (`vae-workbench serve`) in a child process on a fresh data folder. */
export async function startServer(dataDir: string): Promise<ServerChild> {
  const token = 'hostile-test-token-0123456789';
  const child = spawn(process.execPath, [BIN, '--db', dataDir, 'serve', '--port', '0', '--token', token], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Open (http:\/\/[^/]+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return {
    url,
    token,
    pid: child.pid!,
    dbFile: join(dataDir, 'workbench.sqlite'),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** POST /api/<method> to the server child. */
export async function api(
  server: ServerChild,
  method: string,
  payload: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Calls listRuns every 50 ms while `work` runs and returns the slowest answer (ms) with the
 * work's result: the server must keep answering while it refuses a hostile input.
 */
export async function whileAnswering<T>(
  server: ServerChild,
  work: () => Promise<T>,
): Promise<{ result: T; slowestMs: number; calls: number }> {
  let slowestMs = 0;
  let calls = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      const started = performance.now();
      const reply = await api(server, 'listRuns', {});
      if (reply.status !== 200) throw new Error(`listRuns answered ${reply.status}`);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    const result = await work();
    return { result, slowestMs, calls };
  } finally {
    running = false;
    await poll;
  }
}
