// Compare-view speed (issue #5): with 50 runs of 100,000 points each in a real store, how much
// script time the page spends to open and to redraw after a change of selection, measured in
// Debian's headless chromium through the DevTools Performance domain (ScriptDuration).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '../src-main/api/config';
import { APP_VERSION } from '../src-main/api/version';
import { openStore, type RunMetricPoint as MetricPoint } from '../src-main/store';
import type { Browser, CDPSession } from 'playwright-core';
import { launchChromium } from '../tests/helpers/browser';
import { startBrowserMode } from '../tests/helpers/server';

export interface CompareViewBench {
  runs: number;
  pointsPerRun: number;
  seedSeconds: number;
  /** Script time (ms) from navigation until the first chart is drawn. */
  openScriptMs: number;
  /** Script time (ms) to redraw after ticking one more run (median of the repeats). */
  toggleScriptMs: number;
  /** Script time (ms) to redraw with all runs selected, from 5. */
  selectAllScriptMs: number;
  /** Script time (ms) for a smoothing change with all runs shown. */
  smoothingScriptMs: number;
  /**
   * Style recalculation + layout time (ms) of the same four actions (open, tick one run, select
   * all, smoothing): not script, but main-thread work the page does for them, so that moving a
   * forced layout out of a script task shows up here rather than disappearing.
   */
  styleLayoutMs: { open: number; toggle: number; selectAll: number; smoothing: number };
  /** The page's first load, cold (issue #15: under 300 ms of script); see benchFirstLoad. */
  firstLoad: FirstLoadBench;
}

export interface FirstLoadBench {
  /** Cold loads measured, each in a fresh browser context (empty cache). */
  loads: number;
  /** Script time (ms, CDP ScriptDuration) from navigation until the app shell shows the runs table: median. */
  scriptMs: number;
  /** The same, every load. */
  scriptMsEach: number[];
  /** Navigation Timing of the median load (ms from navigation start). */
  domContentLoadedMs: number;
  loadEventMs: number;
  /** The scripts fetched by then (Resource Timing): count and decoded kB. */
  scripts: number;
  scriptKb: number;
}

/** Chromium's Performance domain counters of the page (seconds for the *Duration ones), by name. */
async function performanceMetrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/**
 * Script time of the page's first load: a fresh context (cold cache) navigates to the tokened URL
 * and waits until the runs table lists every run and the new-run form is drawn, then one frame.
 * Views the app loads later on idle (App.svelte's deferred import) are not part of it.
 */
export async function benchFirstLoad(
  browser: Browser,
  openUrl: string,
  runs: number,
  loads = 3,
): Promise<FirstLoadBench> {
  const each: {
    scriptMs: number;
    domContentLoadedMs: number;
    loadEventMs: number;
    scripts: number;
    scriptKb: number;
  }[] = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    try {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const script = async () => (await performanceMetrics(cdp)).ScriptDuration ?? 0;
      const before = await script();
      await page.goto(openUrl);
      await page.locator('[data-testid="new-run-form"]').waitFor();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="run-row"]').length === n, runs, {
        timeout: 60_000,
      });
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
      const scriptMs = ((await script()) - before) * 1000;
      const timing = await page.evaluate(() => {
        const [nav] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
        const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
          (r) => r.initiatorType === 'script' || r.name.endsWith('.js'),
        );
        return {
          domContentLoadedMs: nav.domContentLoadedEventEnd,
          loadEventMs: nav.loadEventEnd,
          scripts: scripts.length,
          scriptKb: scripts.reduce((sum, r) => sum + r.decodedBodySize, 0) / 1024,
        };
      });
      each.push({ scriptMs, ...timing });
    } finally {
      await context.close();
    }
  }
  const sorted = [...each].sort((a, b) => a.scriptMs - b.scriptMs);
  const middle = sorted[Math.floor(sorted.length / 2)];
  return { loads, scriptMsEach: each.map((e) => e.scriptMs), ...middle };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchCompareView(
  options: { runs?: number; pointsPerRun?: number; repeats?: number } = {},
): Promise<CompareViewBench> {
  const runs = options.runs ?? 50;
  const pointsPerRun = options.pointsPerRun ?? 100_000;
  const repeats = options.repeats ?? 5;
  const dataDir = mkdtempSync(join(tmpdir(), 'vaewb-bench-compare-'));
  const seeding = performance.now();
  const store = openStore(join(dataDir, 'workbench.sqlite'), { appVersion: APP_VERSION });
  const config = parseRunConfig({ train: { epochs: 10 } });
  for (let r = 0; r < runs; r++) {
    const run = store.runs.create({
      config: { ...config, train: { ...config.train, seed: r } },
      name: `bench run ${r}`,
    });
    store.runs.updateStatus(run.id, 'running');
    const batch: MetricPoint[] = [];
    const start = Date.now();
    for (let s = 1; s <= pointsPerRun; s++) {
      batch.push({
        runId: run.id,
        name: 'train/loss',
        step: s,
        epoch: Math.floor(s / 10_000),
        value: 100 + 400 * Math.exp(-s / 20_000) + 5 * Math.sin(s * 0.37 + r),
        wallTime: start + s,
      });
      if (batch.length === 20_000) store.metricsWriter.append(batch.splice(0));
    }
    if (batch.length) store.metricsWriter.append(batch);
    store.runs.updateStatus(run.id, 'completed', { step: pointsPerRun });
  }
  store.close();
  const seedSeconds = (performance.now() - seeding) / 1000;

  const server = await startBrowserMode({ dataDir });
  const browser = await launchChromium();
  try {
    // First, before anything warms the server or a cache: the page's cold first loads.
    const firstLoad = await benchFirstLoad(browser, server.openUrl, runs, Math.max(3, Math.min(repeats, 5)));
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    let styleLayout = 0;
    const scriptSeconds = async () => {
      const metrics = await performanceMetrics(cdp);
      styleLayout = ((metrics.RecalcStyleDuration ?? 0) + (metrics.LayoutDuration ?? 0)) * 1000;
      return metrics.ScriptDuration ?? 0;
    };
    /** Style + layout ms since the previous reading of `mark`. */
    let layoutMark = 0;
    const layoutSince = () => {
      const ms = styleLayout - layoutMark;
      layoutMark = styleLayout;
      return ms;
    };
    const chartReady = (series: number) =>
      page.waitForFunction(
        (n) => {
          const chart = document.querySelector('[data-testid="metric-chart"]');
          return (
            chart?.getAttribute('data-series') === String(n) &&
            chart.getAttribute('data-loading') !== 'true' &&
            chart.getAttribute('data-drawn') === 'true'
          );
        },
        series,
        { timeout: 120_000 },
      );
    const timed = async (action: () => Promise<unknown>) => {
      const before = await scriptSeconds();
      layoutSince();
      await action();
      // Let the last animation frame and microtasks finish before reading the counter.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
      return ((await scriptSeconds()) - before) * 1000;
    };

    const before = await scriptSeconds();
    layoutSince();
    await page.goto(server.openUrl);
    await page.locator('[data-testid="metric-select"]').waitFor();
    await page.locator('[data-testid="metric-select"]').selectOption('train/loss');
    await chartReady(5); // a new view selects the 5 newest runs
    const openScriptMs = ((await scriptSeconds()) - before) * 1000;
    const openLayoutMs = layoutSince();

    const toggles: number[] = [];
    const toggleLayouts: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const box = page
        .locator('[data-testid="run-row"]')
        .nth(10 + i)
        .locator('[data-testid="run-select"]');
      toggles.push(
        await timed(async () => {
          await box.check();
          await chartReady(6);
        }),
      );
      toggleLayouts.push(layoutSince());
      await box.uncheck();
      await chartReady(5);
    }
    const selectAllScriptMs = await timed(async () => {
      await page.locator('[data-testid="runs-select-all"]').check();
      await chartReady(runs);
    });
    const selectAllLayoutMs = layoutSince();
    const smoothing = await timed(async () => {
      await page.locator('[data-testid="smoothing-slider"]').fill('0.9');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="metric-chart"]')?.getAttribute('data-loading') !== 'true',
      );
    });
    const styleLayoutMs = {
      open: openLayoutMs,
      toggle: median(toggleLayouts),
      selectAll: selectAllLayoutMs,
      smoothing: layoutSince(),
    };
    return {
      runs,
      pointsPerRun,
      seedSeconds,
      openScriptMs,
      toggleScriptMs: median(toggles),
      selectAllScriptMs,
      smoothingScriptMs: smoothing,
      styleLayoutMs,
      firstLoad,
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
