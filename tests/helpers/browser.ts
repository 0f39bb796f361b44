// A headless Chromium driven by playwright-core: never a browser downloaded at test time.
// Found in this order: $CHROMIUM_PATH, the system's chromium or chrome (Debian's `chromium` in CI),
// then the Chromium that the `@sparticuz/chromium` npm package ships inside its tarball (unpacked to
// the temp folder on first use), so `npm install && npm test` works on a machine with neither.
// The flags keep it from reaching out to Google's hosts on a closed network.
import { chromium, type Browser } from 'playwright-core';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const SYSTEM_BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export interface ChromiumLocation {
  path: string;
  /** Where it came from, for the test log: 'CHROMIUM_PATH', 'system' or '@sparticuz/chromium'. */
  source: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let located: Promise<ChromiumLocation> | undefined;

async function locate(): Promise<ChromiumLocation> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return { path: fromEnv, source: 'CHROMIUM_PATH' };
  }
  for (const name of SYSTEM_BROWSERS) {
    const path = onPath(name);
    if (path) return { path, source: 'system' };
  }
  try {
    const packaged = (await import('@sparticuz/chromium')).default;
    return { path: await packaged.executablePath(), source: '@sparticuz/chromium' };
  } catch (error) {
    throw new Error(
      `no Chromium found: set CHROMIUM_PATH, install one (Debian: apt-get install chromium), ` +
        `or keep the devDependency @sparticuz/chromium installed (${(error as Error).message})`,
      { cause: error },
    );
  }
}

/** The browser the e2e tests and the bench drive; looked up once per process. */
export function findChromium(): Promise<ChromiumLocation> {
  located ??= locate();
  return located;
}

export async function launchChromium(): Promise<Browser> {
  const { path } = await findChromium();
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
