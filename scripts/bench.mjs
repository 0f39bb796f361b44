// `npm run bench [-- --json] [-- --repeats N --steps N --quick]`: builds the app first (the compare-view
// part drives the built browser mode), then runs bench/bench.ts through tsx. See bench/bench.ts for what
// is measured.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const json = process.argv.includes('--json');
const build = spawnSync(
  join(root, 'node_modules', '.bin', 'electron-vite'),
  ['build', '--config', join(root, 'electron.config.ts')],
  // With --json, stdout carries only the report: the build's log goes to stderr.
  { cwd: root, stdio: ['ignore', json ? 2 : 'inherit', 'inherit'] },
);
if (build.status !== 0) {
  console.error('bench: the build failed (electron-vite build); fix it before benchmarking');
  process.exit(build.status ?? 1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(root, 'bench', 'bench.ts'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
