// Messages between a training worker and the main thread.
import type { RunConfig } from '../api/config';
import type { ImageKind, MetricPoint } from '../api/contract';
import type { BackendPreference } from './backend';

export interface TrainJob {
  runId: string;
  config: RunConfig;
  /** Resume from this checkpoint file (safetensors) instead of fresh weights. */
  resumeFrom: { path: string; step: number } | null;
  /** Overrides config.train.backend (tests, bench). */
  backend?: BackendPreference;
  /** The data folder's datasets/, for configs naming an imported data set ('dataset:<id>'). */
  datasetsDir?: string;
}

/** Control word shared with the worker (SharedArrayBuffer): read at every batch. */
export const CONTROL = { run: 0, cancel: 1, pause: 2 } as const;

export type FinishStatus = 'completed' | 'cancelled' | 'paused' | 'diverged' | 'failed';

export type TrainerEvent =
  | {
      type: 'started';
      backend: string;
      backendNotes: string[];
      datasetHash: string;
      datasetSource: string;
      /** sha256 of the test set as evaluated (indices and pixels after binarization). */
      testSetHash: string;
      /** 'published': the first testSize t10k images in order; 'seeded': a split-seed split; 'generated': shapes. */
      testSplit: 'published' | 'seeded' | 'generated';
      totalSteps: number;
      stepsPerEpoch: number;
      startStep: number;
    }
  | { type: 'metrics'; points: MetricPoint[] }
  | { type: 'image'; kind: ImageKind; step: number; epoch: number; png: Uint8Array; width: number; height: number }
  | { type: 'checkpoint'; step: number; epoch: number; kind: 'epoch' | 'pause' | 'final'; bytes: Uint8Array }
  | { type: 'progress'; step: number; epoch: number; samplesPerSec: number }
  | { type: 'finished'; status: FinishStatus; step: number; epoch: number; error: string | null }
  /** Posterior means of test examples at an evaluation, for the latent-space view (issue #15). */
  | {
      type: 'latents';
      step: number;
      epoch: number;
      count: number;
      dims: number;
      means: Float32Array;
      labels: Int32Array | null;
    };
