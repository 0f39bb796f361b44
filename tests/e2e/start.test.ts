// `npm start` on a machine without the Electron binary: one clear line saying so, then browser
// mode on 127.0.0.1 serving the working UI.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../helpers/browser';
import { ROOT } from '../helpers/server';

describe('npm start', () => {
  it('says the Electron binary is missing and how to install it, then serves the UI in browser mode', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vaewb-start-'));
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, VAE_WORKBENCH_HOME: home, ELECTRON_OVERRIDE_DIST_PATH: join(home, 'no-electron-here') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const openUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL in 90 s:\n${output}`)), 90_000);
        child.stdout.on('data', () => {
          const match = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
      });
      const lines = output.split('\n').filter((l) => /Electron binary not found/.test(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/install it with .*electron\/install\.js.*starting browser mode/);
      expect(output).toContain(`data in ${home}`);

      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(openUrl);
        await page.locator('[data-testid="new-run-form"]').waitFor();
        expect(await page.title()).toBe('VAE Workbench');
        expect(await page.locator('[data-testid="runs-empty"]').textContent()).toMatch(/No runs yet/);
      } finally {
        await browser.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});
