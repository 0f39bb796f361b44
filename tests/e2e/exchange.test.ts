// Export, import, replay, generation and playback (issue #6) as a user walks them in browser mode
// in Debian's chromium: a tiny run trained by the CLI beforehand, downloaded as a bundle through
// the UI, replayed and compared, scrubbed with the playback slider, sampled from, and a damaged
// copy of its bundle refused on upload with nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';

const ARTIFACTS = join(ROOT, 'test-results');
const run = promisify(execFile);
let dataDir: string;
let server: BrowserModeServer;
let browser: Browser;
let page: Page;
let runId: string;
let zipPath: string;

const runCount = () => {
  const db = new Database(server.dbFile, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM runs').pluck().get() as number;
  } finally {
    db.close();
  }
};
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `exchange-${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'vaewb-exchange-'));
  // The run to exchange: 2 epochs of 8 steps, evaluated (and imaged) after each.
  const { stdout } = await run(
    process.execPath,
    [
      // The built CLI: the same build browser mode runs, so the replay has the same backend chain.
      join(ROOT, 'out', 'main', 'cli.js'),
      '--db',
      dataDir,
      'train',
      '--name',
      'exchange source',
      '--hidden',
      '32',
      '--latent-dim',
      '3',
      '--train-size',
      '256',
      '--test-size',
      '32',
      '--batch-size',
      '32',
      '--epochs',
      '2',
      '--seed',
      '1',
      '--backend',
      'wasm',
      '--iwae-k',
      '4',
      '--iwae-examples',
      '8',
      '--grid-size',
      '4',
      '--json',
    ],
    { cwd: ROOT, timeout: 180_000 },
  );
  const trained = JSON.parse(stdout) as { id: string; status: string };
  expect(trained.status).toBe('completed');
  runId = trained.id;
  server = await startBrowserMode({ dataDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1800, height: 1100 }, acceptDownloads: true });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(server.openUrl);
  await page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`).waitFor();
  await page.locator(`[data-testid="run-row"][data-run-id="${runId}"] [data-testid="run-name"]`).click();
  await page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('export, replay, playback, generation and import in browser mode', () => {
  it('downloads the run as a bundle .zip whose manifest lists a sha256 for every file', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="run-export"]').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^vae-workbench-${runId}-step\\d+\\.zip$`));
    zipPath = join(dataDir, 'downloaded.zip');
    await download.saveAs(zipPath);
    const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
    const manifest = JSON.parse(Buffer.from(files['manifest.json']).toString('utf8')) as {
      run: { id: string };
      files: { path: string; size: number; sha256: string }[];
    };
    expect(manifest.run.id).toBe(runId);
    const listed = new Map(manifest.files.map((f) => [f.path, f]));
    const others = Object.keys(files).filter((name) => name !== 'manifest.json' && name !== 'manifest.sha256');
    expect(others.length).toBeGreaterThan(5);
    for (const name of others) {
      const entry = listed.get(name);
      expect(entry, `${name} is not in the manifest`).toBeDefined();
      expect(entry!.sha256).toBe(createHash('sha256').update(files[name]).digest('hex'));
    }
    expect(listed.size).toBe(others.length);
    await shot('detail');
  });

  it('plays back the timeline: the slider moves the step, cuts the curve and swaps the image grids', async () => {
    const slider = page.locator('[data-testid="playback-slider"]');
    await slider.waitFor();
    const step = page.locator('[data-testid="playback-step"]');
    const chart = page.locator('[data-testid="playback-chart"]');
    const firstImage = page.locator('[data-testid="playback-image"]').first();
    await firstImage.waitFor();
    const lastStep = Number(await step.getAttribute('data-step'));
    const lastImageId = await firstImage.getAttribute('data-image-id');
    const lastPoints = Number(await chart.getAttribute('data-points'));
    await slider.fill('0');
    await page.waitForFunction(
      (s) => Number(document.querySelector('[data-testid="playback-step"]')?.getAttribute('data-step')) < s,
      lastStep,
    );
    const firstStep = Number(await step.getAttribute('data-step'));
    await page.waitForFunction(
      (id) => document.querySelector('[data-testid="playback-image"]')?.getAttribute('data-image-id') !== id,
      lastImageId,
    );
    expect(await firstImage.getAttribute('data-step')).toBe(String(firstStep));
    expect(Number(await chart.getAttribute('data-points'))).toBeLessThan(lastPoints);
    await page.locator('[data-testid="playback"]').scrollIntoViewIfNeeded();
    await shot('playback');
  });

  it('generates prior samples and a latent interpolation from a checkpoint', async () => {
    await page.locator('[data-testid="generate-count"]').fill('16');
    await page.locator('[data-testid="generate-samples"]').click();
    const samples = page.locator('[data-testid="generate-image"]');
    await samples.waitFor({ timeout: 60_000 });
    expect(await samples.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await samples.getAttribute('data-count')).toBe('16');
    await page.locator('[data-testid="interpolate-to"]').fill('5');
    await page.locator('[data-testid="interpolate"]').click();
    await page.locator('[data-testid="interpolate-image"]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="generate-panel"]').scrollIntoViewIfNeeded();
    await shot('generate');
  });

  it('replays the run after showing its plan, and the comparison panel reports identical', async () => {
    const before = runCount();
    await page.locator(`[data-testid="run-row"][data-run-id="${runId}"] [data-testid="run-replay"]`).click();
    const warnings = page.locator('[data-testid="replay-warnings"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="replay-warnings"]')?.getAttribute('data-count') !== '',
    );
    // The plan is shown before anything starts: each of its warnings listed, or the all-clear.
    const plan = (await page.evaluate(async (id) => {
      const response = await fetch('/api/planReplay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ runId: id }),
      });
      return ((await response.json()) as { result: { warnings: string[] } }).result;
    }, runId)) as { warnings: string[] };
    expect(await warnings.getAttribute('data-count')).toBe(String(plan.warnings.length));
    // innerText: the text as a person reads it (the template's line breaks collapse to spaces).
    const shown = await warnings.innerText();
    if (plan.warnings.length === 0) expect(shown).toMatch(/should match it to the last bit/);
    for (const warning of plan.warnings) expect(shown).toContain(warning);
    expect(runCount()).toBe(before);
    await shot('replay-plan');
    await page.locator('[data-testid="replay-confirm"]').click();
    const panel = page.locator('[data-testid="replay-comparison"]');
    await panel.waitFor();
    expect(await panel.getAttribute('data-original-id')).toBe(runId);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="replay-comparison"]')?.getAttribute('data-identical') !== '',
      undefined,
      {
        timeout: 180_000,
      },
    );
    // Same backend and data here as when the CLI trained it: bit-identical curves.
    const db = new Database(server.dbFile, { readonly: true });
    const backends = db
      .prepare('SELECT backend, dataset_hash FROM runs WHERE id IN (?, ?)')
      .all(runId, await panel.getAttribute('data-replay-id')) as { backend: string; dataset_hash: string }[];
    db.close();
    expect(backends[0]).toEqual(backends[1]);
    expect(await panel.getAttribute('data-identical')).toBe('true');
    // The two are the compared pair: both selected, the curves overlaid.
    const selected = await page
      .locator('[data-testid="run-row"][data-selected="true"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
    expect(selected.sort()).toEqual([runId, await panel.getAttribute('data-replay-id')].sort());
    await page.waitForFunction(
      () => document.querySelector('[data-testid="metric-chart"]')?.getAttribute('data-series') === '2',
    );
    await page.locator('[data-testid="replay-comparison"]').scrollIntoViewIfNeeded();
    await shot('replay');
  });

  it('refuses a damaged bundle on upload with a clear message and writes nothing; the intact one imports', async () => {
    const before = runCount();
    const rowsBefore = await page.locator('[data-testid="run-row"]').count();
    const damaged = readFileSync(zipPath);
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    const damagedPath = join(dataDir, 'damaged.zip');
    writeFileSync(damagedPath, damaged);
    await page.locator('[data-testid="import-input"]').setInputFiles(damagedPath);
    const result = page.locator('[data-testid="import-result"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="import-result"]')?.getAttribute('data-status') === 'error',
    );
    expect(await result.textContent()).toMatch(/Import refused:.*nothing was imported.*damaged\.zip/s);
    expect(runCount()).toBe(before);
    expect(await page.locator('[data-testid="run-row"]').count()).toBe(rowsBefore);
    await result.scrollIntoViewIfNeeded();
    await shot('import-refused');

    await page.locator('[data-testid="import-input"]').setInputFiles(zipPath);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="import-result"]')?.getAttribute('data-status') === 'done',
    );
    const importedId = await result.getAttribute('data-run-id');
    expect(runCount()).toBe(before + 1);
    await page.locator(`[data-testid="run-row"][data-run-id="${importedId}"]`).waitFor();
    // The imported run is focused and plays back like the original.
    await page.locator(`[data-testid="run-detail"][data-run-id="${importedId}"]`).waitFor();
    await page.locator('[data-testid="playback-image"]').first().waitFor();
  });

  it('the page API takes no server paths: exportRun and importBundle with paths are refused (issue #13)', async () => {
    const before = runCount();
    const target = join(dataDir, 'evil', 'out.zip');
    const replies = (await page.evaluate(
      async ([id, out, zip]) => {
        const call = async (method: string, body: unknown) => {
          const response = await fetch(`/api/${method}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          return {
            status: response.status,
            message: ((await response.json()) as { error?: { message: string } }).error?.message,
          };
        };
        return [await call('exportRun', { runId: id, out }), await call('importBundle', { path: zip })];
      },
      [runId, target, zipPath],
    )) as { status: number; message?: string }[];
    expect(replies.map((r) => r.status)).toEqual([403, 403]);
    expect(replies[0].message).toMatch(/\/download\/export/);
    expect(replies[1].message).toMatch(/\/upload\/import/);
    expect(existsSync(join(dataDir, 'evil'))).toBe(false);
    expect(runCount()).toBe(before);
  });
});
