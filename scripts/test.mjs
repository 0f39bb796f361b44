// `npm test`: typecheck (main/preload/CLI with tsc, renderer with svelte-check), unit and
// component tests (Vitest), build, then end-to-end tests in Debian's headless chromium against
// browser mode. Ends with one summary line "Tests: N passed, N failed" and a non-zero exit on
// any failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const reports = join(root, 'test-results');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const bin = (name) => join(root, 'node_modules', '.bin', name);
let failedSteps = [];
const totals = { passed: 0, failed: 0, skipped: 0 };

function step(title, command, args) {
  const started = Date.now();
  console.log(`\n=== ${title}: ${[command, ...args].map((a) => a.replace(root + '/', '')).join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : '1' },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`=== ${title}: ${ok ? 'ok' : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds} s`);
  if (!ok) failedSteps.push(title);
  return ok;
}

function vitest(title, projects, report) {
  const args = [
    'run',
    ...projects.flatMap((p) => ['--project', p]),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ];
  const ok = step(title, bin('vitest'), args);
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += json.numPassedTests;
    totals.failed +=
      json.numFailedTests + (json.numFailedTestSuites > 0 && json.numFailedTests === 0 ? json.numFailedTestSuites : 0);
    totals.skipped += json.numPendingTests + json.numTodoTests;
  } catch {
    totals.failed += 1; // the runner died before writing its report
  }
  return ok;
}

const typed =
  step('typecheck main, preload, CLI', bin('tsc'), ['-p', 'tsconfig.node.json', '--noEmit']) &&
  step('typecheck renderer', bin('svelte-check'), [
    '--tsconfig',
    'tsconfig.web.json',
    '--fail-on-warnings',
    '--output',
    'human',
  ]);
if (typed) {
  vitest('unit and component tests', ['unit', 'components'], join(reports, 'unit.json'));
  if (step('build', bin('electron-vite'), ['build', '--config', 'electron.config.ts'])) {
    vitest('end-to-end tests (chromium)', ['e2e'], join(reports, 'e2e.json'));
  }
}
if (failedSteps.length > 0) console.log(`\nFailed steps: ${failedSteps.join(', ')}`);
console.log(
  `\nTests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(failedSteps.length > 0 || totals.failed > 0 ? 1 : 0);
