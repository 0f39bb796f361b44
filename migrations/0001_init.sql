-- VAE Workbench schema, version 1.
-- Times are integer milliseconds since the Unix epoch (Date.now()); metric wall times likewise.
-- Applied by src-main/store/migrate.ts inside one transaction that also sets PRAGMA user_version.

CREATE TABLE experiments (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
  description TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);

CREATE TABLE runs (
  id            TEXT    PRIMARY KEY,  -- 8 lowercase hex characters, short enough to type
  experiment_id INTEGER REFERENCES experiments (id) ON DELETE SET NULL,
  name          TEXT    NOT NULL,
  config_json   TEXT    NOT NULL CHECK (json_valid(config_json)),
  seed          INTEGER NOT NULL,
  model_kind    TEXT    NOT NULL,
  dataset       TEXT    NOT NULL,
  dataset_hash  TEXT,
  backend       TEXT,
  app_version   TEXT    NOT NULL,
  status        TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN
                  ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'diverged', 'interrupted')),
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  finished_at   INTEGER,
  updated_at    INTEGER NOT NULL,
  heartbeat_at  INTEGER,
  -- "host:pid" of the process that moved the run to 'running'; lets start-up tell a live run in
  -- another process (the CLI next to the app) from one whose process died.
  owner         TEXT,
  error         TEXT,
  step          INTEGER NOT NULL DEFAULT 0,  -- last step reached
  epoch         INTEGER NOT NULL DEFAULT 0,
  total_steps   INTEGER,
  replay_of     TEXT    REFERENCES runs (id) ON DELETE SET NULL,
  resumed_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_created ON runs (created_at DESC);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_experiment ON runs (experiment_id);
CREATE INDEX runs_by_replay_of ON runs (replay_of) WHERE replay_of IS NOT NULL;

-- One row per (run, metric name). Points refer to it by integer id, so the large tables stay narrow;
-- it also carries the series' running summary, so final values and step ranges cost one lookup.
-- AUTOINCREMENT: a writer's cached id of a deleted series must never come to mean another series.
CREATE TABLE metric_series (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id         TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name           TEXT    NOT NULL CHECK (length(name) > 0),  -- e.g. 'train/elbo', 'test/iwae'
  point_count    INTEGER NOT NULL DEFAULT 0,
  min_step       INTEGER,
  max_step       INTEGER,
  last_value     REAL,     -- last_*: the point at max_step
  last_epoch     INTEGER,
  last_wall_time REAL,
  UNIQUE (run_id, name)
);
CREATE INDEX metric_series_by_name ON metric_series (name);

-- Raw points, clustered by (series, step): a range read is one contiguous b-tree scan.
-- Values are finite: NaN arrives from SQLite as NULL and fails NOT NULL, infinities fail the CHECK.
CREATE TABLE metrics (
  series_id INTEGER NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
  step      INTEGER NOT NULL CHECK (step >= 0),
  epoch     INTEGER NOT NULL,
  value     REAL    NOT NULL CHECK (value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308),
  wall_time REAL    NOT NULL,
  PRIMARY KEY (series_id, step)
) WITHOUT ROWID;

-- Multi-resolution summaries kept up at ingest: level k holds buckets of 4^k steps
-- (bucket = floor(step / 4^k)), so a chart of any length reads a few thousand rows, not millions.
CREATE TABLE metric_rollups (
  series_id      INTEGER NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
  level          INTEGER NOT NULL,
  bucket         INTEGER NOT NULL,
  min_value      REAL    NOT NULL,
  max_value      REAL    NOT NULL,
  sum_value      REAL    NOT NULL,
  point_count    INTEGER NOT NULL,
  last_step      INTEGER NOT NULL,
  last_value     REAL    NOT NULL,
  last_epoch     INTEGER NOT NULL,
  last_wall_time REAL    NOT NULL,
  PRIMARY KEY (series_id, level, bucket)
) WITHOUT ROWID;

-- Everything about points in the shape the brief names, for exports and ad-hoc SQL.
CREATE VIEW metric_points AS
  SELECT s.run_id, s.name, m.step, m.epoch, m.value, m.wall_time
  FROM metrics m JOIN metric_series s ON s.id = m.series_id;

CREATE TABLE images (
  id         INTEGER PRIMARY KEY,
  run_id     TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  epoch      INTEGER NOT NULL,
  kind       TEXT    NOT NULL CHECK (length(kind) > 0),  -- samples | reconstructions | traversal | ...
  width      INTEGER NOT NULL,
  height     INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  png        BLOB    NOT NULL  -- last, so listing the other columns never touches its overflow pages
);
CREATE INDEX images_by_run_kind_step ON images (run_id, kind, step);

CREATE TABLE checkpoints (
  id         INTEGER PRIMARY KEY,
  run_id     TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  epoch      INTEGER NOT NULL,
  kind       TEXT    NOT NULL,  -- latest | best | epoch
  path       TEXT    NOT NULL,
  size       INTEGER NOT NULL,
  sha256     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX checkpoints_by_run_step ON checkpoints (run_id, step);

CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag    TEXT NOT NULL CHECK (length(tag) > 0),
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags (tag);

CREATE TABLE notes (
  run_id     TEXT    PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  text       TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
