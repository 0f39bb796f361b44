// Data sets by id in browser mode (issue #13), as a user walks it in Debian's chromium: a small
// IDX file uploaded through the new-run form's "Import data set…", listed by name and id with its
// count and hash, picked, and a tiny run trained on it to completion; the run names the data set
// 'dataset:<id>' and records the sha256 of the exact data, and its details show the backend notes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import type { RunConfig } from '../../src-main/api/config';
import { encodeIdx } from '../../src-main/data/idx';
import { loadRunDataset } from '../../src-main/training/runData';
import { launchChromium } from '../helpers/browser';
import { setField, startRunAndWait } from '../helpers/slice';
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';

const ARTIFACTS = join(ROOT, 'test-results');
const COUNT = 320;
let server: BrowserModeServer;
let browser: Browser;
let page: Page;
let idxFile: string;
let idxSha256: string;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // 320 images of 28x28: a bright square whose place and size vary, on a dark field.
  const pixels = new Uint8Array(COUNT * 28 * 28);
  for (let i = 0; i < COUNT; i++) {
    const size = 6 + (i % 9);
    const top = (i * 7) % (28 - size);
    const left = (i * 11) % (28 - size);
    for (let y = top; y < top + size; y++)
      for (let x = left; x < left + size; x++) pixels[i * 784 + y * 28 + x] = 200 + ((x + y) % 56);
  }
  const bytes = encodeIdx([COUNT, 28, 28], pixels);
  idxFile = join(mkdtempSync(join(tmpdir(), 'vaewb-dataset-e2e-')), 'squares-images-idx3-ubyte');
  writeFileSync(idxFile, bytes);
  idxSha256 = createHash('sha256').update(bytes).digest('hex');
  server = await startBrowserMode();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => console.error('page error:', error.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('data sets in browser mode', () => {
  it('uploads an IDX file from the form, picks it by id, and trains a run on it', async () => {
    await page.goto(server.openUrl);
    await page.locator('[data-testid="new-run-form"]').waitFor();
    const ref = `dataset:ds-${idxSha256.slice(0, 12)}`;
    await page.locator('[data-testid="dataset-import-input"]').setInputFiles(idxFile);
    await page.waitForFunction(
      (want) => (document.querySelector('[data-testid="dataset-picker"]') as HTMLSelectElement | null)?.value === want,
      ref,
      { timeout: 30_000 },
    );
    const option = page.locator(`[data-testid="dataset-picker"] option[value="${ref}"]`);
    expect(await option.textContent()).toBe(
      `squares-images-idx3-ubyte (ds-${idxSha256.slice(0, 12)}): 320 images, 28x28, sha256 ${idxSha256.slice(0, 8)}…`,
    );
    expect(await page.locator('[data-testid="dataset-chosen"]').textContent()).toContain(
      `320 images of 28x28 (idx), sha256 ${idxSha256.slice(0, 16)}…`,
    );
    await page.locator('[data-testid="new-run-form"]').screenshot({ path: join(ARTIFACTS, 'e2e-dataset-picker.png') });

    // The record the server keeps: the file copied into the data folder under its id.
    const listed = (await page.evaluate(async () => {
      const response = await fetch('/api/listDatasets', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return response.json();
    })) as { ok: boolean; result: { ref: string; count: number; sha256: string }[] };
    expect(listed.result.map((d) => [d.ref, d.count, d.sha256])).toEqual([[ref, COUNT, idxSha256]]);

    for (const [name, value] of [
      ['model.kind', 'vae'],
      ['data.trainSize', '256'],
      ['data.testSize', '32'],
      ['train.epochs', '1'],
      ['train.batchSize', '32'],
      ['model.hidden', '32'],
      ['model.latentDim', '3'],
    ] as const)
      await setField(page, name, value);
    const runId = await startRunAndWait(page, 180_000);
    expect(runId).toMatch(/^[0-9a-f]{8}$/);

    const db = new Database(server.dbFile, { readonly: true });
    let row: { status: string; dataset: string; dataset_hash: string; backend_notes: string | null };
    try {
      row = db
        .prepare('SELECT status, dataset, dataset_hash, backend_notes FROM runs WHERE id = ?')
        .get(runId) as typeof row;
    } finally {
      db.close();
    }
    expect(row.status).toBe('completed');
    expect(row.dataset).toBe(ref);
    expect(row.dataset_hash).toMatch(/^[0-9a-f]{64}$/);

    // The details show the run's data set and the notes on why 'auto' chose its backend.
    await page.locator(`[data-testid="run-row"][data-run-id="${runId}"] [data-testid="run-name"]`).click();
    const detail = page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`);
    await detail.waitFor();
    const notes = JSON.parse(row.backend_notes ?? '[]') as string[];
    expect(notes.length).toBeGreaterThan(0);
    expect(await detail.locator('[data-testid="run-backend-notes"] li').allTextContents()).toEqual(notes);
    await detail.locator('[data-testid="run-backend-notes"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-run-backend-notes.png') });
    expect(row.dataset).toBe(ref);
    expect(
      await page.locator(`[data-testid="run-row"][data-run-id="${runId}"] [data-testid="run-name"]`).textContent(),
    ).toContain(`vae-ds-${idxSha256.slice(0, 12)}-s0`);
  });

  it('hovering a point of the latent scatter shows that test image, fetched from the server', async () => {
    const scatter = page.locator('[data-testid="latent-scatter"]');
    await page.locator('#latent-title').scrollIntoViewIfNeeded();
    await scatter.waitFor({ timeout: 30_000 });
    expect(await scatter.getAttribute('data-points')).toBe('32');
    // The whole card in view first, so the screenshot below does not scroll the point from under the pointer.
    const section = scatter.locator('xpath=ancestor::section');
    await section.scrollIntoViewIfNeeded();
    const point = scatter.locator('[data-testid="latent-point"][data-index="5"]');
    await point.hover({ force: true });
    const image = page.locator('[data-testid="latent-hover-image"]');
    await image.waitFor({ timeout: 20_000 }).catch(async (error: Error) => {
      throw new Error(
        `${error.message}; the hover says: ${await page.locator('[data-testid="latent-hover"]').textContent()}`,
      );
    });
    expect(await page.locator('[data-testid="latent-hover"]').getAttribute('data-index')).toBe('5');
    expect(await image.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([28, 28]);
    // Its pixels are test example 5 of the run's split, as the trainer drew it from the imported file.
    const grey = await image.evaluate((img: HTMLImageElement) => {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
      return Array.from({ length: rgba.length / 4 }, (_, i) => rgba[i * 4]);
    });
    const runId = await scatter.getAttribute('data-run-id');
    const db = new Database(server.dbFile, { readonly: true });
    const config = JSON.parse(
      db.prepare('SELECT config_json FROM runs WHERE id = ?').pluck().get(runId) as string,
    ) as RunConfig;
    db.close();
    const data = await loadRunDataset(config, join(server.dataDir, 'datasets'));
    expect(grey).toEqual(Array.from(data.test.pixels.subarray(5 * 784, 6 * 784), (v) => Math.round(v * 255)));
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-latent-hover.png'), clip: (await section.boundingBox())! });
  });
});
