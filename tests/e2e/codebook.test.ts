// The VQ-VAE's views (issue #14) against a real run trained in the test: a tiny VQ-VAE with 16
// codes at 4 positions, evaluated after each of 2 epochs. The codebook-usage card's bars are the
// stored test/code_share/NN of the last evaluation, the dashboard has its perplexity curve, and
// the sample grids show its code swaps. Screenshots land in test-results/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunSummary, SeriesBucket } from '../../src-main/api/contract';
import { Workbench } from '../../src-main/workbench/service';
import { tinyConfig } from '../helpers/configs';
import { launchChromium } from '../helpers/browser';
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';

const ARTIFACTS = join(ROOT, 'test-results');
const CODES = 16;
let server: BrowserModeServer;
let browser: Browser;
let page: Page;
let run: RunSummary;
const stored = new Map<string, SeriesBucket[]>();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'vaewb-codebook-'));
  const workbench = await Workbench.open({ db: dataDir, runQueue: true, concurrency: 1 });
  const base = tinyConfig({ backend: 'cpu' });
  const created = await workbench.createRun({
    config: {
      ...base,
      model: { kind: 'vq-vae', hidden: [32], codebookSize: CODES, codeDim: 4, codePositions: 4 },
    },
    name: 'vq tiny',
  });
  run = await workbench.waitForRun(created.id);
  expect(run.status).toBe('completed');
  for (const metric of await workbench.listMetricNames({ runIds: [run.id] })) {
    const [result] = await workbench.getSeries({ runIds: [run.id], metric, maxBuckets: 10_000 });
    stored.set(metric, result.buckets);
  }
  await workbench.close();
  server = await startBrowserMode({ dataDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  await page.goto(server.openUrl);
  await page.locator('[data-testid="run-row"]').first().waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('VQ-VAE views', () => {
  it('draws the codebook usage of the last evaluation, bar for bar as stored', async () => {
    const shares = [...Array(CODES).keys()].map((b) => stored.get(`test/code_share/${String(b).padStart(2, '0')}`)!);
    expect(shares.every((s) => s.length === 2)).toBe(true); // one point per evaluation
    // The card asks for its series once it is near view (as the other views do).
    await page.locator('[data-testid="codebook-usage"]').scrollIntoViewIfNeeded();
    const histogram = page.locator('[data-testid="codebook-histogram"]');
    await histogram.waitFor({ timeout: 60_000 });
    await histogram.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="codebook-histogram"]')?.getAttribute('data-bins') === String(n),
      CODES,
    );
    expect(await histogram.getAttribute('data-step')).toBe(String(shares[0].at(-1)!.step));
    const bars = await page
      .locator('[data-testid="code-bar"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-share'))));
    expect(bars).toEqual(shares.map((s) => s.at(-1)!.last));
    expect(bars.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const used = stored.get('test/codes_used')!.at(-1)!.last;
    expect(await page.locator('[data-testid="codebook-used"]').textContent()).toBe(`${(100 * used).toFixed(1)} %`);
    await page.locator('[data-testid="codebook-usage"]').screenshot({ path: join(ARTIFACTS, 'codebook-usage.png') });
  });

  it('puts the perplexity curve in the default dashboard and shows code swaps in the grids', async () => {
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="dashboard-panel"]')].some(
        (p) => p.getAttribute('data-panel-id') === 'perplexity',
      ),
    );
    const panel = page.locator('[data-testid="dashboard-panel"][data-panel-id="perplexity"]');
    expect(await panel.getAttribute('data-metrics')).toBe('test/perplexity');
    await page.locator('[data-testid="kind-code-swap"]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="sample-grids"]')?.getAttribute('data-kind') === 'code-swap',
    );
    const image = page.locator('[data-testid="sample-grids"] [data-testid="grid-image"]').first();
    await image.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="sample-grids"] [data-testid="grid-image"]');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    // 4 code positions x gridSize 4 columns of 28 x 28 images with 1-pixel gaps.
    const size = await image.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
    expect(size).toEqual([4 * 28 + 3, 4 * 28 + 3]);
    await page.locator('[data-testid="sample-grids"]').screenshot({ path: join(ARTIFACTS, 'code-swap.png') });
  });
});
