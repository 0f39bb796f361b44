// `npm test`: lint and format check, typecheck (main/preload/CLI with tsc, renderer with
// svelte-check), unit and component tests (Vitest), build, then end-to-end tests in headless
// Chromium (tests/helpers/browser.ts finds one) against browser mode. Ends with one summary line "Tests: N passed, N failed" and a non-zero exit on
// any failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const reports = join(root, 'test-results');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const bin = (name) => join(root, 'node_modules', '.bin', name);
let failedSteps = [];
const totals = { passed: 0, failed: 0, skipped: 0 };
/** test file -> how many of its tests skipped (from Vitest's JSON reports). */
const skippedByFile = new Map();

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

// Each skipped test says why: tests/helpers/requirements.ts writes one line per missing requirement
// and test file; here they are counted per reason.
function printSkipReasons() {
  if (skippedByFile.size === 0) return;
  let lines = [];
  try {
    lines = readFileSync(join(reports, 'skip-reasons.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  } catch {
    // no requirement was missing: the skips below are unexplained
  }
  const byReason = new Map();
  for (const [file, count] of skippedByFile) {
    const reasons = [...new Set(lines.filter((l) => l.file === file).map((l) => l.reason))];
    const reason = reasons.join('; ') || `no stated reason (${file})`;
    byReason.set(reason, (byReason.get(reason) ?? 0) + count);
  }
  console.log('\nSkipped:');
  for (const [reason, count] of byReason) console.log(`  ${count} test${count === 1 ? '' : 's'}: ${reason}`);
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
    for (const file of json.testResults ?? []) {
      const skipped = (file.assertionResults ?? []).filter((t) => t.status === 'pending' || t.status === 'skipped');
      if (skipped.length > 0) skippedByFile.set(relative(root, file.name), skipped.length);
    }
  } catch {
    totals.failed += 1; // the runner died before writing its report
  }
  return ok;
}

// Lint first (ESLint, with the architecture's layer rule, and Prettier's check); a failure is
// reported at the end, and the tests still run so that one look shows everything.
step('lint (eslint)', bin('eslint'), ['.']);
step('format check (prettier)', bin('prettier'), ['--check', '.']);

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
    // The real Electron app under Xvfb; skips, saying why, where the Electron binary is not installed.
    vitest('desktop launch test (Electron)', ['desktop'], join(reports, 'desktop.json'));
  }
}
printSkipReasons();
if (failedSteps.length > 0) console.log(`\nFailed steps: ${failedSteps.join(', ')}`);
console.log(
  `\nTests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(failedSteps.length > 0 || totals.failed > 0 ? 1 : 0);
