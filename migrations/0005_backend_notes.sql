-- The run's backend notes (issue #17; reserved number 0005, renumber at merge): why 'auto' skipped
-- a backend (no GPU driver, a software adapter, a missing kernel), the calibration's figures, the
-- BLAS threads. Until now they lived only in the trainer's 'started' event. A JSON array of
-- strings, replaced at each start of the run (a resume may choose differently); NULL before that.
ALTER TABLE runs ADD COLUMN backend_notes TEXT CHECK (backend_notes IS NULL OR json_type(backend_notes) = 'array');
