// The thin slice through every part, as a user walks it: browser mode in Debian's chromium, a
// tiny MNIST VAE started from the form, trained in a worker thread with tfjs, its metrics in a
// real SQLite file, the chart.js curve growing live, the run ending 'completed'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
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
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';

const ARTIFACTS = join(ROOT, 'test-results');
let server: BrowserModeServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startBrowserMode();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => console.error('page error:', error.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('thin slice in browser mode', () => {
  it('refuses the page without the token', async () => {
    const response = await page.goto(server.url);
    expect(response?.status()).toBe(401);
  });

  it('a user starts a tiny MNIST run from the form, the curve grows live, and the run completes', async () => {
    await page.goto(server.openUrl);
    await page.locator('[data-testid="new-run-form"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-empty.png') });
    await fillTinyRun(page);
    await recordChartGrowth(page);

    const runId = await startRunAndWait(page);
    expect(runId).toMatch(/^[0-9a-f]{8}$/);

    // The curve grew while the run was running: at least two different non-zero point counts.
    const seen = await chartGrowth(page);
    expect(pointCountsWhileRunning(seen).size, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);

    // The database holds the run and its metrics; the chart shows exactly the stored points.
    const metric = await page.locator('[data-testid="metric-select"]').inputValue();
    const { run, stored, trainSteps } = readStoredRun(server.dbFile, runId!, metric);
    expect(run).toMatchObject({ status: 'completed', model_kind: 'vae', dataset: 'mnist' });
    expect(run.dataset_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(trainSteps).toBe(TINY_RUN_TRAIN_STEPS); // 480 images / batch 4, one epoch
    await waitForChartPoints(page, stored);
    expect(stored).toBeGreaterThan(0);

    // The sample grids of the finished run are there.
    await page.locator('[data-testid="grid-image"]').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-completed.png'), fullPage: true });
  });
});
