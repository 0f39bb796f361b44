// `npm run bench [-- --json] [-- --repeats N --steps N --quick]`: runs bench/bench.ts through tsx.
// See bench/bench.ts for what is measured.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', join(root, 'bench', 'bench.ts'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
