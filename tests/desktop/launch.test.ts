// The desktop app, launched for real: the Electron binary on the built app (out/), under Xvfb
// when there is no display, with a temporary data folder. The window must load from
// app://workbench, expose the preload bridge and nothing of Node, say it is the desktop app, and
// train the thin slice's tiny run through the same form steps as tests/e2e/slice.test.ts
// (there over HTTP, here over the preload bridge and IPC); the SQLite file is then checked, an
// export and an import go through the native-dialog methods, and the app quits cleanly.
//
// It skips, saying why, where no Electron binary is installed (npm install with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1 or offline; `node node_modules/electron/install.js` fetches it)
// or where Linux has neither a DISPLAY nor Xvfb. `npm run test:desktop` runs it alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import type { AppInfo, BridgeReply } from '../../src-main/api/contract';
import { requirement } from '../helpers/requirements';
import {
  chartGrowth,
  fillTinyRun,
  pointCountsWhileRunning,
  readStoredRun,
  recordChartGrowth,
  startRunAndWait,
  TINY_RUN_TRAIN_STEPS,
  waitForChartPoints,
} from '../helpers/slice';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-results');

/** The Electron binary the `electron` package points at, when it was downloaded. */
function electronBinary(): string | null {
  try {
    const path: unknown = createRequire(join(ROOT, 'package.json'))('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null; // the package throws when its binary was never downloaded
  }
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const ELECTRON = electronBinary();
const needsXvfb = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const SKIP_REASON = !ELECTRON
  ? 'the Electron binary is not installed (npm install ran with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or offline; ' +
    'run `node node_modules/electron/install.js` on a machine with internet)'
  : needsXvfb && !onPath('Xvfb')
    ? 'no display: DISPLAY is unset and Xvfb is not installed (apt-get install xvfb)'
    : null;
if (SKIP_REASON) console.log(`desktop launch test skipped: ${SKIP_REASON}`);
requirement(import.meta.filename, SKIP_REASON === null, `desktop launch test: ${SKIP_REASON}`);

/** Starts Xvfb on a free display; resolves with ':N'. */
function startXvfb(): Promise<{ display: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1440x1000x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start in 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /^(\d+)\s*$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ display: `:${match[1]}`, child });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${out}`)));
  });
}

/** better-sqlite3 compiled for Electron's ABI, as `npm start` does (scripts/native-sqlite.mjs). */
async function electronSqliteBinding(electron: string): Promise<string> {
  const script = pathToFileURL(join(ROOT, 'scripts', 'native-sqlite.mjs')).href;
  const { ensureElectronSqlite } = (await import(script)) as {
    ensureElectronSqlite(root: string, electronBinary: string): string | null;
  };
  const binding = ensureElectronSqlite(ROOT, electron);
  if (!binding) throw new Error('better-sqlite3 could not be compiled for Electron (see the output above)');
  return binding;
}

/** Chromium's setuid sandbox helper works only when root owns it with mode 4755; root itself needs --no-sandbox. */
function sandboxArgs(electron: string): string[] {
  if (process.platform !== 'linux') return [];
  if (process.getuid?.() === 0) return ['--no-sandbox'];
  const helper = join(electron, '..', 'chrome-sandbox');
  try {
    const info = statSync(helper);
    return info.uid === 0 && (info.mode & 0o4000) !== 0 ? [] : ['--no-sandbox'];
  } catch {
    return [];
  }
}

describe.skipIf(SKIP_REASON !== null)(
  `the desktop app, launched${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`,
  () => {
    let dataDir: string;
    let xvfb: ChildProcess | null = null;
    let app: ElectronApplication;
    let page: Page;
    let runId: string;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      if (
        !existsSync(join(ROOT, 'out', 'main', 'index.js')) ||
        !existsSync(join(ROOT, 'out', 'renderer', 'index.html'))
      )
        throw new Error('out/ is not built: run `npm run build` (npm run test:desktop does)');
      mkdirSync(ARTIFACTS, { recursive: true });
      dataDir = mkdtempSync(join(tmpdir(), 'vaewb-desktop-'));
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(process.env))
        if (value !== undefined && key !== 'ELECTRON_RENDERER_URL' && key !== 'ELECTRON_RUN_AS_NODE') env[key] = value;
      env.VAE_WORKBENCH_HOME = dataDir;
      env.VAE_WORKBENCH_SQLITE_BINDING = await electronSqliteBinding(ELECTRON!);
      if (needsXvfb) {
        const started = await startXvfb();
        xvfb = started.child;
        env.DISPLAY = started.display;
      }
      app = await _electron.launch({
        executablePath: ELECTRON!,
        args: [...sandboxArgs(ELECTRON!), ROOT],
        cwd: ROOT,
        env,
        timeout: 120_000,
      });
      page = await app.firstWindow({ timeout: 120_000 });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.locator('[data-testid="new-run-form"]').waitFor({ timeout: 60_000 });
    });

    afterAll(async () => {
      await app?.close().catch(() => undefined);
      xvfb?.kill('SIGTERM');
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('loads from app://workbench with the preload bridge and no Node in the page', async () => {
      expect(page.url()).toBe('app://workbench/index.html');
      const globals = await page.evaluate(() => ({
        bridge: Object.keys((window as unknown as { vaeWorkbench: object }).vaeWorkbench).sort(),
        require: typeof (window as unknown as { require?: unknown }).require,
        process: typeof (window as unknown as { process?: unknown }).process,
        origin: window.location.origin,
      }));
      expect(globals).toEqual({
        bridge: ['call', 'subscribe'],
        require: 'undefined',
        process: 'undefined',
        origin: 'app://workbench',
      });
      // The protocol serves the renderer folder only.
      const statuses = await page.evaluate(async () =>
        Promise.all(
          [
            'app://workbench/index.html',
            'app://workbench/..%2f..%2fpackage.json',
            'app://workbench/%2e%2e/main/index.js',
          ].map(async (url) => (await fetch(url)).status),
        ),
      );
      expect(statuses).toEqual([200, 404, 404]);
    });

    it('appInfo over the bridge names the electron shell and the temporary data folder; the header says desktop', async () => {
      const reply = (await page.evaluate(() =>
        (window as unknown as { vaeWorkbench: { call(m: string, r: unknown): Promise<unknown> } }).vaeWorkbench.call(
          'appInfo',
          {},
        ),
      )) as BridgeReply;
      expect(reply.ok).toBe(true);
      const info = (reply as { result: AppInfo }).result;
      expect(info.transport).toBe('electron');
      expect(info.dataDir).toBe(dataDir);
      await expect.poll(() => page.locator('header').innerText()).toContain('desktop');
    });

    it('trains the tiny run from the form (the browser-mode slice steps) into the SQLite file', async () => {
      await fillTinyRun(page);
      await recordChartGrowth(page);
      const id = await startRunAndWait(page);
      expect(id).toMatch(/^[0-9a-f]{8}$/);
      runId = id!;

      const seen = await chartGrowth(page);
      expect(pointCountsWhileRunning(seen).size, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);

      const metric = await page.locator('[data-testid="metric-select"]').inputValue();
      const { run, stored, trainSteps } = readStoredRun(join(dataDir, 'workbench.sqlite'), runId, metric);
      expect(run).toMatchObject({ status: 'completed', model_kind: 'vae', dataset: 'mnist' });
      expect(run.dataset_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(trainSteps).toBe(TINY_RUN_TRAIN_STEPS);
      await waitForChartPoints(page, stored);
      expect(stored).toBeGreaterThan(0);
      await page.locator('[data-testid="grid-image"]').first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'desktop-completed.png'), fullPage: true });
    });

    it('exports and re-imports the run through the native-dialog methods', async () => {
      const bundle = join(dataDir, 'exported');
      // Electron's dialogs answer from the test: main calls dialog.showSaveDialog / showOpenDialog.
      await app.evaluate(({ dialog }, path) => {
        dialog.showSaveDialog = (async () => ({ canceled: false, filePath: path })) as typeof dialog.showSaveDialog;
        dialog.showOpenDialog = (async () => ({
          canceled: false,
          filePaths: [`${path}.zip`],
        })) as typeof dialog.showOpenDialog;
      }, bundle);
      await page.locator(`[data-testid="run-row"][data-run-id="${runId}"] [data-testid="run-name"]`).first().click();
      await page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`).waitFor();
      await page.locator('[data-testid="run-export"]').click();
      await page.locator('[data-testid="export-result"][data-status="done"]').waitFor({ timeout: 60_000 });
      expect(readdirSync(dataDir)).toContain('exported.zip');
      expect(statSync(`${bundle}.zip`).size).toBeGreaterThan(1000);

      await page.locator('[data-testid="import-zip-dialog"]').click();
      const result = page.locator('[data-testid="import-result"][data-status="done"]');
      await result.waitFor({ timeout: 60_000 });
      const importedId = await result.getAttribute('data-run-id');
      expect(importedId).toMatch(/^[0-9a-f]{8}$/);
      expect(importedId).not.toBe(runId);
      await page.locator(`[data-testid="run-row"][data-run-id="${importedId}"]`).waitFor();
    });

    it('quits cleanly: the store is closed and consistent, and the page raised no errors', async () => {
      await app.close();
      const db = new Database(join(dataDir, 'workbench.sqlite'), { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        const statuses = db.prepare('SELECT status FROM runs ORDER BY created_at').pluck().all();
        expect(statuses).toEqual(['completed', 'completed']);
      } finally {
        db.close();
      }
      expect(pageErrors).toEqual([]);
    });
  },
);
