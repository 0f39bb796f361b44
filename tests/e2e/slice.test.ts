// The thin slice through every part, as a user walks it: browser mode in Debian's chromium, a
// tiny MNIST VAE started from the form, trained in a worker thread with tfjs, its metrics in a
// real SQLite file, the chart.js curve growing live, the run ending 'completed'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
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

/** Sets a form field by its config path, whatever control the form uses for it. */
async function setField(name: string, value: string): Promise<void> {
  const field = page.locator(`[data-testid="new-run-form"] [name="${name}"]`).first();
  const tag = await field.evaluate((el) => el.tagName.toLowerCase());
  if (tag === 'select') await field.selectOption(value);
  else await field.fill(value);
}

describe('thin slice in browser mode', () => {
  it('refuses the page without the token', async () => {
    const response = await page.goto(server.url);
    expect(response?.status()).toBe(401);
  });

  it('a user starts a tiny MNIST run from the form, the curve grows live, and the run completes', async () => {
    await page.goto(server.openUrl);
    await page.locator('[data-testid="new-run-form"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-empty.png') });

    await setField('model.kind', 'vae');
    await setField('data.dataset', 'mnist');
    await setField('data.trainSize', '480');
    await setField('data.testSize', '64');
    await setField('train.epochs', '1');
    await setField('train.batchSize', '4');
    await setField('model.hidden', '400');
    await setField('model.latentDim', '8');

    // Record every point count the chart shows, and the run's status at that moment.
    await page.evaluate(() => {
      const seen: { points: number; status: string | null }[] = [];
      (window as unknown as { __seen: typeof seen }).__seen = seen;
      const observer = new MutationObserver(() => {
        const chart = document.querySelector('[data-testid="metric-chart"]');
        const row = document.querySelector('[data-testid="run-row"]');
        const points = Number(chart?.getAttribute('data-points') ?? 0);
        const status = row?.getAttribute('data-status') ?? null;
        const last = seen.at(-1);
        if (!last || last.points !== points || last.status !== status) seen.push({ points, status });
      });
      observer.observe(document.body, {
        subtree: true,
        attributes: true,
        childList: true,
        attributeFilter: ['data-points', 'data-status'],
      });
    });

    await page.locator('[data-testid="start-run"]').click();
    const row = page.locator('[data-testid="run-row"]').first();
    await row.waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="run-row"]')?.getAttribute('data-status') === 'completed',
      undefined,
      {
        timeout: 240_000,
      },
    );
    const runId = await row.getAttribute('data-run-id');
    expect(runId).toMatch(/^[0-9a-f]{8}$/);

    // The curve grew while the run was running: at least two different non-zero point counts.
    const seen = await page.evaluate(
      () => (window as unknown as { __seen: { points: number; status: string | null }[] }).__seen,
    );
    const whileRunning = new Set(seen.filter((s) => s.status === 'running' && s.points > 0).map((s) => s.points));
    expect(whileRunning.size, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);

    // The database holds the run and its metrics; the chart shows exactly the stored points.
    const db = new Database(server.dbFile, { readonly: true });
    const run = db
      .prepare('SELECT status, model_kind, dataset, backend, dataset_hash FROM runs WHERE id = ?')
      .get(runId) as Record<string, string>;
    expect(run).toMatchObject({ status: 'completed', model_kind: 'vae', dataset: 'mnist' });
    expect(run.dataset_hash).toMatch(/^[0-9a-f]{64}$/);
    const metric = await page.locator('[data-testid="metric-select"]').inputValue();
    const stored = db
      .prepare('SELECT count(*) FROM metric_points WHERE run_id = ? AND name = ?')
      .pluck()
      .get(runId, metric) as number;
    const trainSteps = db
      .prepare("SELECT count(*) FROM metric_points WHERE run_id = ? AND name = 'train/loss'")
      .pluck()
      .get(runId) as number;
    db.close();
    expect(trainSteps).toBe(120); // 480 images / batch 4, one epoch
    await page.waitForFunction(
      (expected) =>
        Number(document.querySelector('[data-testid="metric-chart"]')?.getAttribute('data-points')) === expected,
      stored,
      { timeout: 10_000 },
    );
    expect(stored).toBeGreaterThan(0);

    // The sample grids of the finished run are there.
    await page.locator('[data-testid="grid-image"]').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-completed.png'), fullPage: true });
  });
});
