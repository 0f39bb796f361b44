// `npm start`: build, then launch the Electron app; where the Electron binary is absent (installed
// with ELECTRON_SKIP_BINARY_DOWNLOAD=1, or offline), say so in one line and start browser mode.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureElectronSqlite } from './native-sqlite.mjs';

const root = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const passThrough = process.argv.slice(2);

const build = spawnSync(
  join(root, 'node_modules', '.bin', 'electron-vite'),
  ['build', '--config', 'electron.config.ts'],
  {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
if (build.status !== 0) {
  console.error('Build failed (see above).');
  process.exit(build.status ?? 1);
}

function electronBinary() {
  try {
    const path = require('electron'); // the package exports the binary's path, or throws when it was never downloaded
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const electron = electronBinary();
if (electron) {
  // better-sqlite3 is compiled for Node (tests, CLI); Electron needs its own build (NODE_MODULE_VERSION).
  const binding = ensureElectronSqlite(root, electron);
  const child = spawn(electron, [root, ...passThrough], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, VAE_WORKBENCH_SQLITE_BINDING: binding ?? '' },
  });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    'Electron binary not found (npm install ran with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or offline): install it with `node node_modules/electron/install.js` on a machine with internet; starting browser mode instead.',
  );
  const child = spawn(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'serve', ...passThrough], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}
