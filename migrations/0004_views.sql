-- The researcher's views (issue #15). Reserved number: 0004 (renumber at merge; the loader
-- refuses gaps, so this branch numbers it 0002; IF NOT EXISTS keeps it safe in any position).

-- Saved workspaces: what a view shows (selected runs, per-run colours, dashboard layout,
-- smoothing, table columns), kept across reloads. One JSON document per workspace name; the
-- API validates its shape.
CREATE TABLE IF NOT EXISTS workspaces (
  name       TEXT    NOT NULL PRIMARY KEY,
  state      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Posterior means E_q[z|x] of (the first examples of) the test set at each evaluation, with
-- their labels, for the latent-space scatter: float32 / int32 little-endian, row-major.
CREATE TABLE IF NOT EXISTS latents (
  run_id TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step   INTEGER NOT NULL,
  epoch  INTEGER NOT NULL,
  count  INTEGER NOT NULL,
  dims   INTEGER NOT NULL,
  means  BLOB    NOT NULL,
  labels BLOB,
  PRIMARY KEY (run_id, step)
);
