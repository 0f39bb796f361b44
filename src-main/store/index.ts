// The store layer's public surface. Only this layer imports better-sqlite3.
export { openStore, Store, type StoreOptions } from './db';
export * from './errors';
export { defaultMigrationsDir, loadMigrations, migrate, type Migration, type MigrationResult } from './migrate';
export * from './runs';
export type { Experiment, ExperimentListItem } from './experiments';
export type { Note } from './annotations';
export type { ImageMeta, NewImage, StoredImage } from './images';
export type { Checkpoint, CheckpointKind, NewCheckpoint } from './checkpoints';
export type { SavedWorkspace } from './workspaces';
export type { IngestedState, RemoteAttempt, RemoteRun } from './remote';
export {
  MetricsReader,
  MetricsWriter,
  ROLLUP_LEVELS,
  type MetricPoint,
  type RunMetricPoint,
  type ReadSeriesOptions,
  type SeriesBucket,
  type SeriesPoint,
  type SeriesSummary,
} from './metrics';
export { benchIngest, benchSeriesQuery, type IngestBench, type SeriesQueryBench } from './bench';
export { DATASET_FORMATS, type DatasetFormat, type NewDataset, type StoredDataset } from './datasets';
