-- Data sets imported into the data folder (issue #13; reserved number 0003, renumber at merge).
-- Browser mode and the app's window refer to a data set by id ('dataset:<id>'), never by a path on
-- the machine: the file is copied once into <data folder>/datasets/<id>.<format>, with its sha256
-- and shape recorded here.

CREATE TABLE datasets (
  id         TEXT    PRIMARY KEY CHECK (id GLOB 'ds-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
  name       TEXT    NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
  format     TEXT    NOT NULL CHECK (format IN ('idx', 'idx.gz', 'npy')),
  size       INTEGER NOT NULL CHECK (size > 0),
  sha256     TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
  count      INTEGER NOT NULL CHECK (count > 0),
  height     INTEGER NOT NULL CHECK (height > 0),
  width      INTEGER NOT NULL CHECK (width > 0),
  channels   INTEGER NOT NULL CHECK (channels > 0),
  created_at INTEGER NOT NULL
);
