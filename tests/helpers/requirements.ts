// What a test needs from the machine beyond `npm install`: a Debian data set, the OpenBLAS-backed
// native addon. A test that lacks it skips, and the reason is written to
// test-results/skip-reasons.jsonl, so `npm test` can print one stated reason per kind of skip
// beside its count (scripts/test.mjs).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface Requirement {
  /** True when the machine has it; use as `it.skipIf(!req.ok)` or `describe.runIf(req.ok)`. */
  ok: boolean;
  /** Why the tests that need it skip, and how to get it. */
  reason: string;
}

/**
 * @param file the test file that needs it (`import.meta.filename`), so the skip count is per reason
 * @param ok whether the machine has it
 * @param reason what is missing and how to get it, e.g. "OpenBLAS: apt-get install libopenblas-dev"
 */
export function requirement(file: string, ok: boolean, reason: string): Requirement {
  if (!ok) {
    const dir = join(ROOT, 'test-results');
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'skip-reasons.jsonl'), JSON.stringify({ file: relative(ROOT, file), reason }) + '\n');
  }
  return { ok, reason };
}
