// Export, import, replay and playback helpers of the renderer (issue #6). Plain functions, no
// Svelte: the download URL and the upload of a bundle in browser mode (the Electron preload has
// only call/subscribe, so there the File menu does both), checkpoint choices, replay pairs.
import type { DatasetInfo, ImportResult, RunDetail, RunSummary } from '@api/contract';
import { readReply, RemoteError } from './transport';

export type CheckpointChoice = 'latest' | 'best' | number;

/** Browser mode's download of a run bundle as a .zip (same token cookie as the API). */
export function exportDownloadUrl(runId: string, checkpoint: CheckpointChoice = 'latest', base = ''): string {
  return `${base}/download/export/${encodeURIComponent(runId)}.zip?checkpoint=${encodeURIComponent(String(checkpoint))}`;
}

/** The file name the server gives the download (Content-Disposition says the same). */
export function exportFilename(runId: string): string {
  return `vae-workbench-${runId}.zip`;
}

/** Uploads a bundle .zip to browser mode's /upload/import; a refused bundle throws a RemoteError with the server's message. */
export async function uploadBundle(
  file: Blob & { name?: string },
  options: { base?: string; fetch?: typeof fetch } = {},
): Promise<ImportResult> {
  const headers = { 'content-type': 'application/zip', ...(file.name ? { 'x-file-name': asciiName(file.name) } : {}) };
  return postUpload<ImportResult>('/upload/import', file, headers, 'Import', options);
}

/** POSTs a file to one of browser mode's upload routes and reads its reply (transport.ts readReply). */
async function postUpload<T>(
  path: string,
  file: Blob,
  headers: Record<string, string>,
  what: string,
  options: { base?: string; fetch?: typeof fetch },
): Promise<T> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${options.base ?? ''}${path}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers,
      body: file,
    });
  } catch (error) {
    throw new RemoteError(`The upload did not reach the workbench: ${(error as Error).message}`);
  }
  return readReply<T>(response, what);
}

/** Header values must be ASCII; the server cleans the name further. */
function asciiName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, 200);
}

export interface CheckpointOption {
  value: string;
  label: string;
}

/** 'latest', 'best', then every kept checkpoint by step (the select's options). */
export function checkpointOptions(checkpoints: RunDetail['checkpoints']): CheckpointOption[] {
  const steps = [...new Set(checkpoints.map((c) => c.step))].sort((a, b) => a - b);
  const kinds = new Map<number, string[]>();
  for (const c of checkpoints) kinds.set(c.step, [...new Set([...(kinds.get(c.step) ?? []), c.kind])]);
  return [
    { value: 'latest', label: 'latest' },
    { value: 'best', label: 'best (highest test ELBO)' },
    ...steps.map((step) => ({ value: String(step), label: `step ${step} (${(kinds.get(step) ?? []).join(', ')})` })),
  ];
}

export function parseCheckpointChoice(value: string): CheckpointChoice {
  if (value === 'latest' || value === 'best') return value;
  const step = Number(value);
  return Number.isSafeInteger(step) && step >= 0 ? step : 'latest';
}

/**
 * The replay pair the comparison panel shows: the focused run and its original when it is a
 * replay (or the original of a focused replay's pair), else the first selected replay whose
 * original is selected too. Null when there is none.
 */
export function replayPairOf(
  focused: RunSummary | null,
  selected: readonly RunSummary[],
  byId: ReadonlyMap<string, RunSummary>,
): { original: RunSummary; replay: RunSummary } | null {
  if (focused?.replayOf) {
    const original = byId.get(focused.replayOf);
    if (original) return { original, replay: focused };
  }
  if (focused) {
    const replay = selected.find((r) => r.replayOf === focused.id);
    if (replay) return { original: focused, replay };
  }
  const ids = new Set(selected.map((r) => r.id));
  for (const replay of selected) {
    if (replay.replayOf && ids.has(replay.replayOf)) return { original: byId.get(replay.replayOf)!, replay };
  }
  return null;
}

/** Sorted unique evaluation steps of a run: its image steps and its test metric steps. */
export function evaluationSteps(...lists: readonly (readonly number[])[]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

/** Index of the last step <= `step` (0 when none). */
export function stepIndexAtOrBefore(steps: readonly number[], step: number): number {
  let index = 0;
  for (let i = 0; i < steps.length; i++) if (steps[i] <= step) index = i;
  return index;
}

/**
 * Uploads a data file (IDX, plain or .gz, or .npy) to browser mode's /upload/dataset, which copies
 * it into the data folder; runs then name it by its `ref` ('dataset:<id>'), never by a path.
 */
export async function uploadDataset(
  file: Blob & { name?: string },
  options: { name?: string; base?: string; fetch?: typeof fetch } = {},
): Promise<DatasetInfo> {
  const name = (options.name ?? file.name ?? '').trim();
  const query = name ? `?name=${encodeURIComponent(name.slice(0, 200))}` : '';
  const headers = { 'content-type': 'application/octet-stream' };
  return postUpload<DatasetInfo>(`/upload/dataset${query}`, file, headers, 'Import data set', options);
}
