-- Runs trained by remote workers over a BullMQ/Redis queue (issue #18). Reserved number: 0006
-- (numbered 0005 on this branch because the loader refuses gaps; renumber at merge; IF NOT EXISTS
-- keeps it safe in any position).

-- One row per run handed to a queue: which queue (its URL with any password removed), the BullMQ
-- job, and how far the coordinator has ingested its event stream: the attempt whose events count
-- (a job re-taken after a worker died is a new attempt) and the last sequence number ingested.
CREATE TABLE IF NOT EXISTS remote_runs (
  run_id     TEXT    NOT NULL PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  queue      TEXT    NOT NULL,
  job_id     TEXT    NOT NULL,
  attempt    INTEGER NOT NULL DEFAULT 0,
  seq        INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS remote_runs_by_queue ON remote_runs (queue);

-- Each attempt of a remote run: the worker ("host:pid") and host that trained it, its backend,
-- and the step it started from (0, or the checkpoint it resumed; -1: it never started training).
CREATE TABLE IF NOT EXISTS remote_attempts (
  run_id     TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt    INTEGER NOT NULL,
  worker     TEXT    NOT NULL,
  host       TEXT    NOT NULL,
  backend    TEXT    NOT NULL,
  start_step INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, attempt)
);

-- Where the coordinator is in each queue's event stream (the Redis Stream entry id last ingested),
-- so a restarted coordinator reads on from there and misses nothing.
CREATE TABLE IF NOT EXISTS remote_streams (
  queue      TEXT    NOT NULL PRIMARY KEY,
  last_id    TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
