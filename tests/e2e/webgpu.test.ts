// A webgpu run started from the form in browser mode, on SwiftShader's software adapter: it
// completes, and the run shows the adapter it trained on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { readStoredRun, setField, startRunAndWait } from '../helpers/slice';
import { ROOT, startBrowserMode, type BrowserModeServer } from '../helpers/server';
import { SWIFTSHADER_ENV, swiftshaderRequirement } from '../helpers/webgpu';

const ARTIFACTS = join(ROOT, 'test-results');
const swiftshader = swiftshaderRequirement(import.meta.filename);
let server: BrowserModeServer;
let browser: Browser;
let page: Page;

describe.runIf(swiftshader.ok)('webgpu from the UI (software adapter)', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startBrowserMode({ env: SWIFTSHADER_ENV });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('trains a tiny run on webgpu to completion and shows the adapter', async () => {
    await page.goto(server.openUrl);
    await page.locator('[data-testid="new-run-form"]').waitFor();
    const fields: [string, string][] = [
      ['data.dataset', 'mnist'],
      ['data.trainSize', '64'],
      ['data.testSize', '32'],
      ['train.epochs', '1'],
      ['train.batchSize', '32'],
      ['model.hidden', '32'],
      ['model.latentDim', '3'],
    ];
    for (const [name, value] of fields) await setField(page, name, value);
    await page.locator('[data-testid="new-run-form"] details.more > summary').click();
    await setField(page, 'train.backend', 'webgpu');
    const runId = await startRunAndWait(page, 280_000).catch(async (error: Error) => {
      await page.screenshot({ path: join(ARTIFACTS, 'e2e-webgpu-failed.png') });
      throw error;
    });
    expect(runId).toMatch(/^[0-9a-f]{8}$/);

    const stored = readStoredRun(server.dbFile, runId!, 'train/loss');
    expect(stored.run.status).toBe('completed');
    expect(stored.trainSteps).toBe(2);
    expect(stored.run.backend).toMatch(/^webgpu\(SwiftShader.*software\)$/);
    await page.locator(`[data-testid="run-row"][data-run-id="${runId}"] [data-testid="run-name"]`).click();
    const shown = page.locator(`[data-testid="run-detail"][data-run-id="${runId}"] [data-testid="run-backend"]`);
    await shown.waitFor();
    expect(await shown.innerText()).toBe(stored.run.backend);
    await shown.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-webgpu.png') });
  });
});
