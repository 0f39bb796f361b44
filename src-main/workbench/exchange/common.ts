// Shared by export, import, replay and generation: the context they run in, and choosing a
// checkpoint (the bundle worker verifies its file as it reads it: bundle.ts readVerifiedCheckpoint).
import type { CheckpointChoice } from '../../api/contract';
import type { Checkpoint, Run } from '../../store';
import type { RemoteStore } from '../storeThread';
import type { BackendPreference } from '../../training/backend';
import { ExchangeError } from './bundle';

export interface ExchangeContext {
  store: RemoteStore;
  /** The data folder's checkpoints/ (imported checkpoints are copied to <dir>/<runId>/). */
  checkpointsDir: string;
  /** tfjs backend for export and generation in this process (default 'auto'). */
  backend?: BackendPreference;
  /** The data folder's datasets/, where imported data sets ('dataset:<id>') are found. */
  datasetsDir?: string;
}

export { ExchangeError };
export type { CheckpointChoice };

export function parseCheckpointChoice(text: string | undefined): CheckpointChoice {
  if (text === undefined || text === 'latest') return 'latest';
  if (text === 'best') return 'best';
  const step = Number(text);
  if (!Number.isSafeInteger(step) || step < 0)
    throw new ExchangeError(400, `--checkpoint must be 'latest', 'best' or a step number, got '${text}'`);
  return step;
}

export async function selectCheckpoint(
  store: RemoteStore,
  run: Run,
  choice: CheckpointChoice = 'latest',
): Promise<Checkpoint> {
  const all = await store.checkpoints.list(run.id);
  if (all.length === 0)
    throw new ExchangeError(
      409,
      `Run ${run.id} has no checkpoint yet (status ${run.status}); it needs at least one finished evaluation or a pause.`,
    );
  if (typeof choice === 'number') {
    const found = all.filter((c) => c.step === choice).at(-1);
    if (!found)
      throw new ExchangeError(
        404,
        `Run ${run.id} has no checkpoint at step ${choice}; it has ${all.map((c) => c.step).join(', ')}.`,
      );
    return found;
  }
  if (choice === 'best') {
    const best = await store.checkpoints.latest(run.id, 'best');
    if (best) return best;
    const elbo = new Map((await store.metrics.readSeriesRaw(run.id, 'test/elbo')).map((p) => [p.step, p.value]));
    const scored = all.filter((c) => elbo.has(c.step));
    if (scored.length > 0)
      return scored.reduce((a, b) => ((elbo.get(b.step) as number) > (elbo.get(a.step) as number) ? b : a));
  }
  return all.reduce((a, b) => (b.step > a.step || (b.step === a.step && b.id > a.id) ? b : a));
}
