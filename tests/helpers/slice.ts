// The thin slice's user steps, shared by the browser-mode test (tests/e2e/slice.test.ts, Debian's
// chromium against `serve`) and the desktop launch test (tests/desktop/launch.test.ts, the real
// Electron window and its preload bridge): the same form, the same tiny run, the same checks of
// the SQLite file.
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';

/** The tiny MNIST VAE both tests train: 480 images, batch 4, one epoch = 120 steps. */
export const TINY_RUN_FIELDS: readonly [name: string, value: string][] = [
  ['model.kind', 'vae'],
  ['data.dataset', 'mnist'],
  ['data.trainSize', '480'],
  ['data.testSize', '64'],
  ['train.epochs', '1'],
  ['train.batchSize', '4'],
  ['model.hidden', '400'],
  ['model.latentDim', '8'],
];
export const TINY_RUN_TRAIN_STEPS = 120;

/** Sets a form field by its config path, whatever control the form uses for it. */
export async function setField(page: Page, name: string, value: string): Promise<void> {
  const field = page.locator(`[data-testid="new-run-form"] [name="${name}"]`).first();
  const tag = await field.evaluate((el) => el.tagName.toLowerCase());
  if (tag === 'select') await field.selectOption(value);
  else await field.fill(value);
}

export async function fillTinyRun(page: Page): Promise<void> {
  await page.locator('[data-testid="new-run-form"]').waitFor();
  for (const [name, value] of TINY_RUN_FIELDS) await setField(page, name, value);
}

export interface ChartSample {
  points: number;
  status: string | null;
}

/** Records every point count the chart shows, and the run's status at that moment. */
export async function recordChartGrowth(page: Page): Promise<void> {
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
}

export async function chartGrowth(page: Page): Promise<ChartSample[]> {
  return page.evaluate(() => (window as unknown as { __seen: { points: number; status: string | null }[] }).__seen);
}

/** Distinct non-zero point counts the chart showed while the run was running. */
export function pointCountsWhileRunning(seen: readonly ChartSample[]): Set<number> {
  return new Set(seen.filter((s) => s.status === 'running' && s.points > 0).map((s) => s.points));
}

/** Clicks Start, waits for the first row to read 'completed', and returns its run id. */
export async function startRunAndWait(page: Page, timeout = 240_000): Promise<string | null> {
  await page.locator('[data-testid="start-run"]').click();
  const row = page.locator('[data-testid="run-row"]').first();
  await row.waitFor();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="run-row"]')?.getAttribute('data-status') === 'completed',
    undefined,
    { timeout },
  );
  return row.getAttribute('data-run-id');
}

export interface StoredRun {
  run: Record<string, string>;
  /** Points of `metric` (the chart's metric) in metric_points. */
  stored: number;
  trainSteps: number;
}

/** What the SQLite file holds for the run, read with the Node build of better-sqlite3. */
export function readStoredRun(dbFile: string, runId: string, metric: string): StoredRun {
  const db = new Database(dbFile, { readonly: true });
  try {
    const run = db
      .prepare('SELECT status, model_kind, dataset, backend, dataset_hash FROM runs WHERE id = ?')
      .get(runId) as Record<string, string>;
    const stored = db
      .prepare('SELECT count(*) FROM metric_points WHERE run_id = ? AND name = ?')
      .pluck()
      .get(runId, metric) as number;
    const trainSteps = db
      .prepare("SELECT count(*) FROM metric_points WHERE run_id = ? AND name = 'train/loss'")
      .pluck()
      .get(runId) as number;
    return { run, stored, trainSteps };
  } finally {
    db.close();
  }
}

/** Waits until the chart shows exactly `expected` points. */
export async function waitForChartPoints(page: Page, expected: number, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="metric-chart"]')?.getAttribute('data-points')) === n,
    expected,
    { timeout },
  );
}
