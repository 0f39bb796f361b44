// The researcher's views (issue #15) against real runs trained in the test: a beta sweep of three
// tiny VAEs with 4 latent dimensions, evaluated after each of 3 epochs. Every view is checked
// against the numbers in the store; screenshots land in test-results/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { RunSummary, SeriesBucket } from '../../src-main/api/contract';
import { loadDataset } from '../../src-main/data';
import { Workbench } from '../../src-main/workbench/service';
import { tinyConfig } from '../helpers/configs';
import { launchChromium } from '../helpers/browser';
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';
import { betaOf } from '../../src-main/api/modelReads';

const ARTIFACTS = join(ROOT, 'test-results');
const LATENT = 4;
const EPOCHS = 3;
const STEPS_PER_EPOCH = 256 / 32;
let server: BrowserModeServer;
let browser: Browser;
let page: Page;
let runs: RunSummary[];
/** Stored points of every run: runId -> metric -> buckets (each one point: small runs). */
const stored = new Map<string, Map<string, SeriesBucket[]>>();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'vaewb-views-'));
  const workbench = await Workbench.open({ db: dataDir, runQueue: true, concurrency: 2 });
  const base = tinyConfig({ epochs: EPOCHS });
  const created = await workbench.createGridSweep({
    config: { ...base, model: { ...base.model, latentDim: LATENT } },
    experiment: 'beta-sweep',
    grid: [{ param: 'model.beta', values: [1, 4, 16] }],
    tags: ['views'],
  });
  expect(created.every((r) => r.tags.includes('views'))).toBe(true);
  runs = await Promise.all(created.map((r) => workbench.waitForRun(r.id)));
  expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
  for (const run of runs) {
    const byMetric = new Map<string, SeriesBucket[]>();
    for (const metric of await workbench.listMetricNames({ runIds: [run.id] })) {
      const [result] = await workbench.getSeries({ runIds: [run.id], metric, maxBuckets: 10_000 });
      byMetric.set(metric, result.buckets);
    }
    stored.set(run.id, byMetric);
  }
  await workbench.close();

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

const points = (runId: string, metric: string) => stored.get(runId)!.get(metric)!;

describe('dashboard', () => {
  it('draws every configured panel, each with one line per run and metric and every stored point', async () => {
    const dashboard = page.locator('[data-testid="dashboard"]');
    await dashboard.waitFor();
    // The default layout for a VAE sweep: ELBO/IWAE, recon, KL, active units, and the KL
    // decomposition's TC where the runs log it (every Gaussian-posterior run does).
    const expectedIds = ['elbo', 'recon', 'kl', 'own', ...(stored.get(runs[0].id)!.has('test/tc') ? ['own-nats'] : [])];
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="dashboard"]')?.getAttribute('data-panels') === String(n),
      expectedIds.length,
    );
    const panels = page.locator('[data-testid="dashboard-panel"]');
    expect(await panels.count()).toBe(expectedIds.length);
    for (let i = 0; i < expectedIds.length; i++) await panels.nth(i).scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid="dashboard-panel"]')].every(
          (p) => p.getAttribute('data-drawn') === 'true' && p.getAttribute('data-loading') === 'false',
        ),
      undefined,
      { timeout: 30_000 },
    );
    const ids = await panels.evaluateAll((els) => els.map((e) => e.getAttribute('data-panel-id')));
    expect(ids).toEqual(expectedIds);
    const attrs = await panels.evaluateAll((els) =>
      els.map((e) => ({
        metrics: e.getAttribute('data-metrics')!.split(','),
        series: Number(e.getAttribute('data-series')),
        points: Number(e.getAttribute('data-points')),
      })),
    );
    for (const panel of attrs) {
      expect(panel.series).toBe(runs.length * panel.metrics.length);
      const expected = panel.metrics.reduce((n, m) => n + runs.reduce((k, r) => k + points(r.id, m).length, 0), 0);
      expect(panel.points).toBe(expected);
    }
    expect(attrs[0].metrics).toEqual(['train/elbo', 'test/elbo', 'test/iwae']);
    expect(points(runs[0].id, 'train/elbo')).toHaveLength(EPOCHS * STEPS_PER_EPOCH);
    // Evaluation curves have 3 points: not smoothed, the legend ends on the stored last value.
    const legend = await panels
      .nth(0)
      .locator('[data-testid="panel-legend-item"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-raw'))));
    const lastElbos = runs.map((r) => points(r.id, 'test/elbo').at(-1)!.last);
    for (const v of lastElbos) expect(legend.some((x) => Math.abs(x - v) < 1e-9)).toBe(true);
    await dashboard.scrollIntoViewIfNeeded();
    await dashboard.screenshot({ path: join(ARTIFACTS, 'views-dashboard.png') });
  });

  it('adds a panel of a per-dimension family from the search box', async () => {
    // Counted before the click: the panel may be added before the next line runs.
    const before = await page.locator('[data-testid="dashboard-panel"]').count();
    await page.locator('[data-testid="metric-search"]').fill('test kl_dim');
    const result = page.locator('[data-testid="metric-result"][data-metric="test/kl_dim/*"]');
    await result.click();
    const panels = page.locator('[data-testid="dashboard-panel"]');
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="dashboard-panel"]').length === n,
      before + 1,
    );
    const added = panels.nth(before);
    await added.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      ([at, n]) => {
        const p = document.querySelectorAll('[data-testid="dashboard-panel"]')[at];
        return p?.getAttribute('data-drawn') === 'true' && p.getAttribute('data-series') === String(n);
      },
      [before, runs.length * LATENT] as const,
    );
    expect(await added.getAttribute('data-points')).toBe(String(runs.length * LATENT * EPOCHS));
    await page.locator('[data-testid="metric-search"]').fill('');
  });
});

describe('KL per dimension', () => {
  it('draws dims x evaluations cells per run, each equal to the stored test/kl_dim point', async () => {
    const view = page.locator('[data-testid="kl-view"]');
    await view.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      ([n, cells]) => {
        const maps = [...document.querySelectorAll('[data-testid="kl-heatmap"]')];
        return maps.length === n && maps.every((m) => m.querySelectorAll('[data-testid="kl-cell"]').length === cells);
      },
      [runs.length, LATENT * EPOCHS] as const,
      { timeout: 30_000 },
    );
    for (const run of runs) {
      const heatmap = page.locator(`[data-testid="kl-heatmap"][data-run-id="${run.id}"]`);
      expect(await heatmap.getAttribute('data-dims')).toBe(String(LATENT));
      expect(await heatmap.getAttribute('data-evals')).toBe(String(EPOCHS));
      const cells = await heatmap.locator('[data-testid="kl-cell"]').evaluateAll((els) =>
        els.map((e) => ({
          dim: Number(e.getAttribute('data-dim')),
          step: Number(e.getAttribute('data-step')),
          value: Number(e.getAttribute('data-value')),
        })),
      );
      for (const cell of cells) {
        const stored = points(run.id, `test/kl_dim/${String(cell.dim).padStart(2, '0')}`).find(
          (b) => b.step === cell.step,
        );
        expect(stored, `z${cell.dim} at step ${cell.step}`).toBeDefined();
        expect(cell.value).toBe(stored!.last);
      }
      // The spectrum is the last evaluation's KL, largest first; collapsed dims are those with Cov <= 0.01.
      const spectrum = page.locator(`[data-testid="kl-spectrum"][data-run-id="${run.id}"]`);
      const order = (await spectrum.getAttribute('data-order'))!.split(',').map(Number);
      const finalKl = (d: number) => points(run.id, `test/kl_dim/${String(d).padStart(2, '0')}`).at(-1)!.last;
      expect(order.map(finalKl)).toEqual([...order.map(finalKl)].sort((a, b) => b - a));
      const collapsed = (await spectrum.getAttribute('data-collapsed'))!;
      const expected = [...Array(LATENT).keys()].filter(
        (d) => points(run.id, `test/latent_cov/${String(d).padStart(2, '0')}`).at(-1)!.last <= 0.01,
      );
      expect(collapsed === '' ? [] : collapsed.split(',').map(Number).sort()).toEqual(expected);
    }
    // Traversal rows carry their dimension and its KL at that evaluation, largest first.
    const traversal = page.locator('[data-testid="traversal-rows"]').first();
    const traversalRun = (await traversal.getAttribute('data-run-id'))!;
    const rows = await traversal
      .locator('[data-testid="traversal-row"]')
      .evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-dim')), Number(e.getAttribute('data-kl'))]));
    expect(rows).toHaveLength(LATENT);
    const kls = rows.map((r) => r[1]);
    expect(kls).toEqual([...kls].sort((a, b) => b - a));
    expect(kls[0]).toBe(points(traversalRun, `test/kl_dim/${String(rows[0][0]).padStart(2, '0')}`).at(-1)!.last);
    await view.screenshot({ path: join(ARTIFACTS, 'views-kl-heatmap.png') });
  });
});

describe('ELBO gap', () => {
  it('plots iwae - elbo at every evaluation of every run', async () => {
    const view = page.locator('[data-testid="elbo-gap"]');
    await view.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="gap-point"]').length === n,
      runs.length * EPOCHS,
      { timeout: 30_000 },
    );
    const drawn = await view.locator('[data-testid="gap-point"]').evaluateAll((els) =>
      els.map((e) => ({
        runId: e.getAttribute('data-run-id')!,
        step: Number(e.getAttribute('data-step')),
        elbo: Number(e.getAttribute('data-elbo')),
        iwae: Number(e.getAttribute('data-iwae')),
        gap: Number(e.getAttribute('data-gap')),
      })),
    );
    for (const p of drawn) {
      // The ELBO on the IWAE subset's images where the run logs it (the gap's images), else test/elbo.
      const subset = stored
        .get(p.runId)!
        .get('test/elbo_iwae_subset')
        ?.find((b) => b.step === p.step)?.last;
      const elbo = subset ?? points(p.runId, 'test/elbo').find((b) => b.step === p.step)!.last;
      const iwae = points(p.runId, 'test/iwae').find((b) => b.step === p.step)!.last;
      expect(p.elbo).toBe(elbo);
      expect(p.iwae).toBe(iwae);
      const storedGap = stored
        .get(p.runId)!
        .get('test/gap')
        ?.find((b) => b.step === p.step)?.last;
      expect(p.gap).toBeCloseTo(storedGap ?? iwae - elbo, 9);
      expect(p.gap).toBeCloseTo(iwae - elbo, 5); // test/gap = test/iwae - test/elbo_iwae_subset
    }
    await view.screenshot({ path: join(ARTIFACTS, 'views-elbo-gap.png') });
  });
});

describe('across runs', () => {
  it('puts one rate-distortion point per run at its final test KL and recon, labelled by the swept value', async () => {
    const plot = page.locator('[data-testid="rate-distortion"]');
    await plot.scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="rd-point"]').length === n, runs.length);
    const drawn = await plot.locator('[data-testid="rd-point"]').evaluateAll((els) =>
      els.map((e) => ({
        runId: e.getAttribute('data-run-id')!,
        rate: Number(e.getAttribute('data-rate')),
        distortion: Number(e.getAttribute('data-distortion')),
        label: e.textContent!.trim(),
      })),
    );
    expect(drawn.map((d) => d.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    for (const d of drawn) {
      expect(d.rate).toBe(points(d.runId, 'test/kl').at(-1)!.last);
      expect(d.distortion).toBe(points(d.runId, 'test/recon').at(-1)!.last);
      const beta = betaOf(runs.find((r) => r.id === d.runId)!.config.model);
      expect(d.label).toContain(`model.beta=${beta}`);
    }
    const pc = page.locator('[data-testid="parallel-coords"]');
    expect(await pc.locator('[data-testid="pc-line"]').count()).toBe(runs.length);
    const axes = await pc
      .locator('[data-testid="pc-axis"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(axes[0]).toBe('model.beta');
    expect(axes).toContain('test/elbo');
    await page
      .locator('[data-testid="rate-distortion"]')
      .locator('xpath=ancestor::section')
      .screenshot({
        path: join(ARTIFACTS, 'views-rate-distortion.png'),
      });
  });

  it('shows the run names in full and two metric columns at 1,024 x 700', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.locator('[data-testid="runs-table"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'views-runs-1024.png') });
    const layout = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap')!.getBoundingClientRect();
      const inView = (el: Element | null) => {
        const r = el!.getBoundingClientRect();
        return r.left >= wrap.left - 1 && r.right <= wrap.right + 1 && r.top >= 0 && r.bottom <= window.innerHeight;
      };
      const names = [...document.querySelectorAll('[data-testid="run-name"]')].map((b) => ({
        text: b.textContent!.trim(),
        full: b.scrollWidth <= b.clientWidth + 1 && inView(b),
      }));
      const heads = [...document.querySelectorAll('[data-testid="column-head"]')]
        .filter(inView)
        .map((h) => h.getAttribute('data-key'));
      return { names, heads };
    });
    expect(layout.names.map((n) => n.text).sort()).toEqual(runs.map((r) => r.name).sort());
    expect(layout.names.every((n) => n.full)).toBe(true);
    expect(layout.heads).toEqual(expect.arrayContaining(['testElbo', 'testIwae']));
    await page.setViewportSize({ width: 1440, height: 1100 });
  });
});

describe('saved workspace', () => {
  it('a reload restores the selection, the colours and the dashboard layout', async () => {
    // Untick one run and remove a panel: both are saved in the store.
    const dropped = runs[1].id;
    await page.locator(`[data-testid="run-row"][data-run-id="${dropped}"] [data-testid="run-select"]`).uncheck();
    const panels = page.locator('[data-testid="dashboard-panel"]');
    const before = await panels.count();
    await panels.first().locator('[data-testid="panel-remove"]').click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="dashboard-panel"]').length === n,
      before - 1,
    );
    const layout = await panels.evaluateAll((els) => els.map((e) => e.getAttribute('data-metrics')));
    await page.locator('[data-testid="metric-select"]').selectOption('test/iwae');
    const colors = await page
      .locator('[data-testid="run-row"][data-selected="true"] .swatch')
      .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    // Saved after a short pause; wait until the store has it.
    await expect
      .poll(async () => {
        const body = await page.evaluate(async () => {
          const response = await fetch('/api/getWorkspace', { method: 'POST', body: '{}' });
          return (await response.json()) as { result: { state: { selectedIds: string[] } | null } };
        });
        return `${body.result.state?.selectedIds.length ?? 0} ${(body.result.state as { curvesMetric?: string } | null)?.curvesMetric}`;
      })
      .toBe(`${runs.length - 1} test/iwae`);

    await page.reload();
    await page.locator('[data-testid="run-row"]').nth(2).waitFor();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="dashboard-panel"]').length === n,
      before - 1,
    );
    const selected = await page
      .locator('[data-testid="run-row"][data-selected="true"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(selected.sort()).toEqual(
      runs
        .filter((r) => r.id !== dropped)
        .map((r) => r.id)
        .sort(),
    );
    expect(await panels.evaluateAll((els) => els.map((e) => e.getAttribute('data-metrics')))).toEqual(layout);
    const colorsAfter = await page
      .locator('[data-testid="run-row"][data-selected="true"] .swatch')
      .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    expect(colorsAfter).toEqual(colors);
    expect(await page.locator('[data-testid="metric-chart"]').getAttribute('data-metric')).toBe('test/iwae');
  });
});

describe('export report', () => {
  it('writes one HTML file that opens offline with every selected run, its final ELBO and the charts', async () => {
    const selected = await page
      .locator('[data-testid="run-row"][data-selected="true"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')!));
    expect(selected.length).toBeGreaterThan(0);
    // Draw every view first (they load when scrolled into view).
    for (const id of ['dashboard', 'elbo-gap', 'kl-view'])
      await page.locator(`[data-testid="${id}"]`).scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('svg[data-testid="kl-heatmap"]').length > 0);
    const panelState = () =>
      page
        .locator('[data-testid="dashboard-panel"]')
        .evaluateAll((els) =>
          els.map(
            (e) => `${e.getAttribute('data-metrics')}:${e.getAttribute('data-series')}:${e.getAttribute('data-drawn')}`,
          ),
        );
    // Every panel's canvas shows its current lines before the report copies it.
    await expect.poll(async () => (await panelState()).every((p) => p.endsWith(':true'))).toBe(true);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="export-report"]').click(),
    ]);
    const file = join(ARTIFACTS, 'views-report.html');
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    for (const id of selected) {
      const run = runs.find((r) => r.id === id)!;
      expect(html).toContain(run.name);
      expect(html).toContain(`data-testid="report-elbo" data-value="${run.final['test/elbo']}"`);
    }
    const dropped = runs.filter((r) => !selected.includes(r.id));
    for (const run of dropped) expect(html).not.toContain(`data-run-id="${run.id}"`);

    // Offline: a page that may reach nothing but the file itself.
    const offline = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    offline.on('request', (r) => requests.push(r.url()));
    const viewer = await offline.newPage();
    await viewer.goto(pathToFileURL(file).href);
    const shown = await viewer.evaluate(() => ({
      runs: document.querySelectorAll('[data-testid="report-run"]').length,
      images: [...document.images].map((i) => i.complete && i.naturalWidth > 0),
      svgs: document.querySelectorAll('figure svg').length,
    }));
    expect(shown.runs).toBe(selected.length);
    expect(shown.images.length).toBeGreaterThanOrEqual(selected.length * 2); // samples + reconstructions per run
    expect(shown.images.every(Boolean)).toBe(true);
    expect(shown.svgs).toBeGreaterThanOrEqual(3);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    await viewer.screenshot({ path: join(ARTIFACTS, 'views-report.png'), fullPage: true });
    await offline.close();
  });
});

describe('latent space', () => {
  it('plots one point per test example at its posterior mean, coloured by its label, per evaluation', async () => {
    const view = page.locator('[data-testid="latent-scatter"]');
    await page.locator('#latent-title').scrollIntoViewIfNeeded();
    await view.waitFor({ timeout: 30_000 });
    const runId = (await view.getAttribute('data-run-id'))!;
    const run = runs.find((r) => r.id === runId)!;
    const data = await loadDataset({ ...run.config.data, seed: run.config.train.seed });
    const testSize = run.config.data.testSize;
    expect(Number(await view.getAttribute('data-points'))).toBe(testSize);
    expect(Number(await view.getAttribute('data-dims'))).toBe(LATENT);
    const labels = await view
      .locator('[data-testid="latent-point"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-label'))));
    expect(labels).toEqual([...data.test.labels!.slice(0, testSize)]);
    // The newest evaluation first; the slider goes back to the first one.
    const last = points(runId, 'test/elbo').at(-1)!.step;
    expect(Number(await view.getAttribute('data-step'))).toBe(last);
    await page.locator('[data-testid="latent-epoch-slider"]').fill('0');
    const first = points(runId, 'test/elbo')[0].step;
    await page.waitForFunction(
      (s) => document.querySelector('[data-testid="latent-scatter"]')?.getAttribute('data-step') === String(s),
      first,
    );
    await page.locator('[data-testid="latent-epoch-slider"]').fill(String(EPOCHS - 1));
    await page.waitForFunction(
      (s) => document.querySelector('[data-testid="latent-scatter"]')?.getAttribute('data-step') === String(s),
      last,
    );
    expect(await view.getAttribute('data-method')).toBe('pca');
    await view.locator('xpath=ancestor::section').screenshot({ path: join(ARTIFACTS, 'views-latent-scatter.png') });
    // UMAP (umap-js, seeded): the same points, one per test example, laid out again.
    await page.locator('[data-testid="latent-method-umap"]').check();
    await page.waitForFunction(
      (n) => {
        const svg = document.querySelector('[data-testid="latent-scatter"]');
        return (
          svg?.getAttribute('data-method') === 'umap' &&
          svg.querySelectorAll('[data-testid="latent-point"]').length === n
        );
      },
      testSize,
      { timeout: 60_000 },
    );
    await page
      .locator('[data-testid="latent-scatter"]')
      .locator('xpath=ancestor::section')
      .screenshot({ path: join(ARTIFACTS, 'views-latent-umap.png') });
    await page.locator('[data-testid="latent-method-pca"]').check();
  });
});

describe('grids and run details', () => {
  it('labels the rows of a reconstruction grid: originals above their reconstructions', async () => {
    const grids = page.locator('[data-testid="sample-grids"]');
    await grids.scrollIntoViewIfNeeded();
    await page.locator('[data-testid="kind-reconstructions"]').click();
    await page.locator('[data-testid="grid-image"]').first().waitFor();
    const cell = page.locator('.recon').first();
    const labels = await cell.locator('[data-testid="recon-row-label"]').allTextContents();
    const g = runs[0].config.eval.gridSize;
    expect(labels).toEqual(
      Array.from({ length: 2 * Math.floor(g / 2) }, (_, r) => (r % 2 === 0 ? 'original' : 'recon.')),
    );
    await grids.screenshot({ path: join(ARTIFACTS, 'views-reconstructions.png') });
  });

  it('opens the run details in view with the final metrics and only the config keys that apply', async () => {
    const vae = runs.find((r) => r.config.model.kind === 'vae')!;
    await page.locator(`[data-testid="run-row"][data-run-id="${vae.id}"] [data-testid="run-name"]`).click();
    const detail = page.locator('[data-testid="run-detail"]');
    await page.waitForFunction(
      (id) => document.querySelector('[data-testid="run-detail"]')?.getAttribute('data-run-id') === id,
      vae.id,
    );
    await expect
      .poll(() =>
        detail.evaluate((el) => {
          const r = el.getBoundingClientRect();
          return r.top < window.innerHeight && r.bottom > 0;
        }),
      )
      .toBe(true);
    const finals = await detail
      .locator('[data-testid="run-final"] dd')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-metric'), Number(e.getAttribute('data-value'))]));
    expect(Object.fromEntries(finals)).toEqual(vae.final);
    const hidden = (await detail.locator('[data-testid="run-config"]').getAttribute('data-hidden'))!.split(',');
    // A plain VAE with a Gaussian posterior, a Bernoulli decoder, constant KL weight and the ELBO objective
    // (its config has no other kind's fields at all):
    expect(hidden.sort()).toEqual(
      [
        'model.flowLength',
        'model.gaussianSigma',
        'model.gaussianVariance',
        'train.cycleRatio',
        'train.cycles',
        'train.objectiveSamples',
        'train.warmupSteps',
      ].sort(),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'views-run-detail.png') });
  });
});
