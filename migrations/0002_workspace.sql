-- Saved workspaces (issue #15): what a view shows (selected runs, per-run colours, dashboard
-- layout, smoothing, table columns), kept across reloads. One JSON document per workspace name;
-- the API validates its shape. Reserved number: 0004 (renumber at merge; IF NOT EXISTS keeps it
-- safe to apply in any position).
CREATE TABLE IF NOT EXISTS workspaces (
  name       TEXT    PRIMARY KEY,
  state      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
