// The compare view against real runs in a real database: the runs table (sort, filter), curves
// overlaid per run and as mean ± std over seeds, the config diff, and the sample grids with the
// epoch slider and the lightbox. Screenshots are saved to test-results/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunSummary } from '../../src-main/api/contract';
import { Workbench } from '../../src-main/workbench/service';
import { tinyConfig } from '../helpers/configs';
import { launchChromium } from '../helpers/browser';
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';

const ARTIFACTS = join(ROOT, 'test-results');
let server: BrowserModeServer;
let browser: Browser;
let page: Page;
let runs: RunSummary[];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'vaewb-compare-'));
  // Three real runs: two that differ only by seed, and a beta-VAE.
  const workbench = await Workbench.open({ db: dataDir, runQueue: true, concurrency: 2 });
  const seed1 = await workbench.createRun({ config: tinyConfig({ seed: 1 }), experiment: 'seeds', name: 'vae seed 1' });
  const seed2 = await workbench.createRun({ config: tinyConfig({ seed: 2 }), experiment: 'seeds', name: 'vae seed 2' });
  const beta = tinyConfig({ seed: 1 });
  const betaRun = await workbench.createRun({
    config: { ...beta, model: { ...beta.model, kind: 'beta-vae', beta: 4 } },
    experiment: 'betas',
    name: 'beta 4',
  });
  runs = await Promise.all([seed1, seed2, betaRun].map((r) => workbench.waitForRun(r.id)));
  await workbench.close();
  expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);

  server = await startBrowserMode({ dataDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  await page.goto(server.openUrl);
  await page.locator('[data-testid="run-row"]').nth(2).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const chartAttr = (name: string) => page.locator('[data-testid="metric-chart"]').getAttribute(name);
async function waitForChart(series: number, points: number): Promise<void> {
  await page.waitForFunction(
    ([s, p]) => {
      const chart = document.querySelector('[data-testid="metric-chart"]');
      return (
        chart?.getAttribute('data-series') === String(s) &&
        chart?.getAttribute('data-points') === String(p) &&
        chart?.getAttribute('data-loading') !== 'true'
      );
    },
    [series, points] as const,
    { timeout: 20_000 },
  );
}

describe('compare view', () => {
  it('overlays the three runs: one line each, with every stored point', async () => {
    // A new view selects the newest runs: all three here.
    expect(await page.locator('[data-testid="run-row"][data-selected="true"]').count()).toBe(3);
    await page.locator('[data-testid="metric-select"]').selectOption('train/loss');
    await waitForChart(3, 3 * 16); // 3 runs x 16 steps
    await page.locator('[data-testid="metric-select"]').selectOption('test/elbo');
    await waitForChart(3, 3 * 2); // 3 runs x 2 evaluations
    expect(await chartAttr('data-metric')).toBe('test/elbo');
    await page.screenshot({ path: join(ARTIFACTS, 'compare-overview.png'), fullPage: true });
  });

  it('shows runs that differ only by seed as one mean line', async () => {
    await page.locator('[data-testid="metric-select"]').selectOption('train/loss');
    await waitForChart(3, 48);
    await page.locator('[data-testid="aggregate-seeds-toggle"]').check();
    await waitForChart(2, 32); // the seed pair merged into one line of 16 steps, plus the beta-VAE
    await page.screenshot({ path: join(ARTIFACTS, 'compare-seed-mean.png'), fullPage: true });
    await page.locator('[data-testid="aggregate-seeds-toggle"]').uncheck();
    await waitForChart(3, 48);
  });

  it('lists only the config keys that differ', async () => {
    const diff = page.locator('[data-testid="config-diff"]');
    await diff.locator('[data-testid="config-diff-row"]').first().waitFor();
    const keys = await diff
      .locator('[data-testid="config-diff-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(new Set(keys)).toEqual(new Set(['model.kind', 'model.beta', 'train.seed']));
  });

  it('sorts by test ELBO and filters by model', async () => {
    await page.locator('[data-testid="sort-testElbo"]').click();
    const ids = () =>
      page.locator('[data-testid="run-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
    const byElbo = [...runs].sort((a, b) => a.final['test/elbo'] - b.final['test/elbo']).map((r) => r.id);
    const first = await ids();
    expect(first.length).toBe(3);
    expect(first[0] === byElbo[0] || first[0] === byElbo[2]).toBe(true);
    await page.locator('[data-testid="sort-testElbo"]').click();
    expect((await ids()).reverse()).toEqual(first);
    expect(first).toEqual(first[0] === byElbo[0] ? byElbo : [...byElbo].reverse());

    await page.locator('[data-testid="runs-filter-model"]').selectOption('beta-vae');
    expect(await ids()).toEqual([runs[2].id]);
    await page.locator('[data-testid="runs-clear-filters"]').click();
    expect((await ids()).length).toBe(3);
  });

  it('shows sample grids per run and epoch, with a slider and a lightbox', async () => {
    const grids = page.locator('[data-testid="sample-grids"]');
    await grids.scrollIntoViewIfNeeded();
    // Runs x epochs: by default the newest epochs side by side (2 here), then one column.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="grid-image"]').length === 6, undefined, {
      timeout: 20_000,
    });
    await page.locator('[data-testid="grid-columns"]').selectOption('1');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="grid-image"]').length === 3, undefined, {
      timeout: 20_000,
    });
    const epochs = () =>
      page.locator('[data-testid="grid-image"]').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('data-epoch')));
    expect(await epochs()).toEqual(['1', '1', '1']);
    const slider = page.locator('[data-testid="epoch-slider"]');
    await slider.fill('0');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="grid-image"]')].every((i) => i.getAttribute('data-epoch') === '0'),
    );
    expect(await page.locator('[data-testid="epoch-value"]').textContent()).toBe('1'); // shown counting from 1
    await page.locator('[data-testid="kind-traversal"]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="sample-grids"]')?.getAttribute('data-kind') === 'traversal',
    );
    await page.locator('[data-testid="grid-image"]').first().click();
    await page.locator('[data-testid="lightbox"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'compare-lightbox.png') });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="lightbox"]').waitFor({ state: 'detached' });
    await grids.screenshot({ path: join(ARTIFACTS, 'compare-grids.png') });
  });
});
