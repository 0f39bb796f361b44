// better-sqlite3 compiled for Node will not load in Electron and the reverse (NODE_MODULE_VERSION).
// Tests, the CLI and browser mode use the Node build in node_modules/better-sqlite3/build. For
// Electron we compile a second copy into .native/electron-<version>/ and hand its path to the
// app (VAE_WORKBENCH_SQLITE_BINDING -> better-sqlite3's `nativeBinding` option), so both
// runtimes work from one checkout, in either order, with no rebuild in place.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function ensureElectronSqlite(root, electronBinary) {
  const electronVersion = JSON.parse(
    readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
  ).version;
  const target = join(root, '.native', `electron-${electronVersion}`);
  const binding = join(target, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(binding)) return binding;
  console.log(`Compiling better-sqlite3 for Electron ${electronVersion} (once; needs Electron's headers)...`);
  cpSync(join(root, 'node_modules', 'better-sqlite3'), join(target, 'better-sqlite3'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('better-sqlite3', 'build')}`),
  });
  const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const result = spawnSync(
    process.execPath,
    [
      gyp,
      'rebuild',
      '--release',
      `--target=${electronVersion}`,
      '--dist-url=https://electronjs.org/headers',
      '--runtime=electron',
    ],
    { cwd: join(target, 'better-sqlite3'), stdio: 'inherit' },
  );
  if (result.status !== 0 || !existsSync(binding)) {
    console.error(
      `Could not compile better-sqlite3 for Electron ${electronVersion}; the app will fail to open its database. Electron: ${electronBinary}`,
    );
    return null;
  }
  return binding;
}
