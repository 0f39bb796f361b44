// Starts the built app in browser mode (`node out/main/cli.js serve`) as a real child process
// on a free port with a temporary data folder, and returns its tokened URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BrowserModeServer {
  url: string;
  openUrl: string;
  token: string;
  dataDir: string;
  dbFile: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export const ROOT = join(import.meta.dirname, '..', '..');

export async function startBrowserMode(
  options: { dataDir?: string; extraArgs?: string[]; env?: Record<string, string> } = {},
): Promise<BrowserModeServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vaewb-e2e-'));
  const token = 'e2e' + Math.random().toString(16).slice(2);
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'out', 'main', 'cli.js'),
      '--db',
      dataDir,
      'serve',
      '--port',
      '0',
      '--token',
      token,
      ...(options.extraArgs ?? []),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const openUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not start in 60 s:\n${output}`)), 60_000);
    const check = () => {
      const match = /Open (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`browser mode exited with ${code}:\n${output}`)));
  });
  const url = openUrl.replace(/\?token=.*$/, '');
  return {
    url,
    openUrl,
    token,
    dataDir,
    dbFile: join(dataDir, 'workbench.sqlite'),
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
