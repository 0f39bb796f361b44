// The packaged app's Electron fuses, read the way `npm run dist` reads them: electron-builder's
// own config loader and schema check on electron-builder.yml, then its own translation into the
// fuse wire that @electron/fuses flips in the binary (platformPackager.generateFuseConfig).
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const require = createRequire(join(ROOT, 'package.json'));

interface BuilderConfig {
  asar?: boolean | object | null;
  electronFuses?: Record<string, boolean> | null;
  [key: string]: unknown;
}

async function loadBuilderConfig(): Promise<BuilderConfig> {
  require('app-builder-lib'); // its index first: the config and packager modules import each other
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
    getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<BuilderConfig>;
    validateConfiguration(config: BuilderConfig, debug: { add(): void; isEnabled: boolean }): Promise<void>;
  };
  const config = await getConfig(ROOT, join(ROOT, 'electron-builder.yml'), null);
  // Throws on an unknown or mistyped key, as `electron-builder` itself would.
  await validateConfiguration(config, { add: () => undefined, isEnabled: false });
  return config;
}

describe('electron-builder.yml: fuses of the packaged app', () => {
  it('sets the six checklist fuses (and file:// privileges off), valid for electron-builder', async () => {
    const config = await loadBuilderConfig();
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
    // OnlyLoadAppFromAsar needs an asar; electron-builder packs one unless told not to.
    expect(config.asar === undefined || config.asar === true || typeof config.asar === 'object').toBe(true);
  });

  it('electron-builder turns them into this fuse wire for @electron/fuses', async () => {
    const config = await loadBuilderConfig();
    const { PlatformPackager } = require('app-builder-lib/out/platformPackager') as {
      PlatformPackager: { prototype: { generateFuseConfig(fuses: unknown): Promise<Record<string, unknown>> } };
    };
    const { FuseV1Options, FuseVersion } = require('@electron/fuses') as {
      FuseV1Options: Record<string, number>;
      FuseVersion: Record<string, string>;
    };
    const wire = await PlatformPackager.prototype.generateFuseConfig.call(null, config.electronFuses);
    expect(wire).toMatchObject({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    });
    // Only LoadBrowserProcessSpecificV8Snapshot (a start-up snapshot choice) is left at its default.
    const set = Object.keys(wire).filter((key) => /^\d+$/.test(key));
    expect(set.map(Number).sort()).toEqual([0, 1, 2, 3, 4, 5, 7]);
    expect(FuseV1Options.LoadBrowserProcessSpecificV8Snapshot).toBe(6);
  });
});
