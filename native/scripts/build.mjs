// Install step of the optional addon: node-gyp rebuild, never failing the install. A machine
// without a BLAS or a compiler gets no build/ and the app falls back to plain wasm kernels.
// Uses Node's own headers (e.g. /usr/include/node) when present, so no header download is needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = join(import.meta.dirname, '..');
if (process.env.VAE_WORKBENCH_SKIP_SGEMM) {
  console.warn('vae-workbench-sgemm: skipped (VAE_WORKBENCH_SKIP_SGEMM is set)');
  process.exit(0);
}
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try {
    gyp = createRequire(join(here, '..', 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    gyp = null;
  }
}
if (!gyp) {
  console.warn(
    'vae-workbench-sgemm: node-gyp not found; the native sgemm accelerator is not built (plain wasm kernels will be used).',
  );
  process.exit(0);
}
const args = [gyp, 'rebuild', '--release'];
// Prefer the headers installed with Node itself (offline machines cannot download them).
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h')))
  args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
if (result.status !== 0) {
  console.warn(
    'vae-workbench-sgemm: build failed (is a BLAS installed? libopenblas-dev on Debian/Ubuntu); plain wasm kernels will be used.',
  );
}
process.exit(0);
