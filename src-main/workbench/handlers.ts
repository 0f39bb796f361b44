// What each API method does, given a request already validated by the facade (service.ts). Errors
// are thrown as they come (store, exchange, config errors); the facade maps them once.
import { availableParallelism } from 'node:os';
import { parseRunConfig } from '../api/config';
import {
  ApiError,
  WorkspaceStateSchema,
  type MethodName,
  type ResponseMap,
  type RunOn,
  type ValidRequestOf,
} from '../api/contract';
import { APP_VERSION } from '../api/version';
import type { BackendPreference } from '../training/backend';
import type { CheckpointFiles } from './checkpointFiles';
import { admitRunConfig, admitRunConfigs, datasetInfo, importDatasetFile } from './datasets';
import * as exchange from './exchange';
import type { ViewEvents } from './ingest';
import type { DataPaths } from './paths';
import type { RunQueue } from './queue';
import type { RemoteStore } from './storeThread';
import { planGrid } from './sweep';

/** What a shell may ask besides the request: the CLI trains its own runs in its own process. */
export interface CallOptions {
  /** Claim and train the created/resumed/replayed run in this process at once (the CLI). */
  startHere?: boolean;
}

/** Hands runs to a queue's workers (issue #18: src-main/queue's coordinator, attached by `serve --queue`). */
export interface RemoteRunner {
  /** The queue's URL without its password. */
  queue: string;
  /** Takes runs this process created already claimed ('running' here) and hands them to the queue. */
  submit(runIds: readonly string[]): Promise<void>;
}

export interface HandlerContext {
  /** The queue runs may be handed to, when one is attached. */
  remote: () => RemoteRunner | null;
  store: RemoteStore;
  paths: DataPaths;
  queue: RunQueue;
  views: ViewEvents;
  checkpoints: CheckpointFiles;
  backend?: BackendPreference;
}

export type Handlers = {
  [M in MethodName]: (request: ValidRequestOf<M>, options: CallOptions) => Promise<ResponseMap[M]>;
};

/** PNG bytes as a data: URL, the form images take through the API (IPC and HTTP alike). */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

export function createHandlers(ctx: HandlerContext): Handlers {
  const { store, queue, views } = ctx;
  const runId = (idOrPrefix: string): Promise<string> => store.runs.resolveId(idOrPrefix);
  const startsHere = (options: CallOptions): boolean => options.startHere ?? !queue.options.claim;
  const exchangeContext = (): exchange.ExchangeContext => ({
    store,
    checkpointsDir: ctx.paths.checkpointsDir,
    backend: ctx.backend,
    datasetsDir: ctx.paths.datasetsDir,
  });

  /** A queued run; with `startHere` claimed in the same transaction, so a running app cannot take it first. */
  const createRun = async (
    request: ValidRequestOf<'createRun'>,
    options: CallOptions & { replayOf?: string },
  ): Promise<ResponseMap['createRun']> => {
    const config = parseRunConfig(request.config);
    // No run row before its data set loads and its config is costed on it (issue #13).
    await admitRunConfig(config, store, ctx.paths.datasetsDir);
    const runner = onQueue(request.runOn);
    const startHere = options.startHere ?? false;
    const [run] = await store.ops.createRuns(
      [
        {
          config,
          name: request.name,
          experimentName: request.experiment,
          tags: request.tags,
          replayOf: options.replayOf,
        },
      ],
      // A run for the queue is claimed as it is created, so this process's run queue never takes it.
      startHere || runner !== null,
    );
    if (runner) {
      await runner.submit([run.id]);
      return store.runs.summary(run.id);
    }
    const summary = await store.runs.summary(run.id);
    views.broadcast({ type: 'run', run: summary });
    if (startHere) await queue.start(run);
    else void queue.schedule();
    return summary;
  };

  /** The queue a request's `runOn: 'queue'` names; a 409 when this workbench follows none. */
  const onQueue = (runOn: RunOn | undefined): RemoteRunner | null => {
    if (runOn !== 'queue') return null;
    const runner = ctx.remote();
    if (!runner)
      throw new ApiError(
        409,
        'This workbench hands runs to no queue: start it with `vae-workbench serve --queue redis://host:6379/0` to run on other machines',
        'runOn',
      );
    return runner;
  };

  /**
   * Cancel or pause. A run this process trains is signalled directly (it stops at the next batch);
   * one trained by another process is marked in the store, and that process's heartbeat sees it
   * within a second and stops its worker.
   */
  const stopRun = async (idOrPrefix: string, to: 'cancelled' | 'paused'): Promise<ResponseMap['cancelRun']> => {
    const id = await runId(idOrPrefix);
    if (queue.signal(id, to)) return store.runs.summary(id);
    const run = await store.runs.require(id);
    if (to === 'paused' && run.status !== 'running') {
      throw new ApiError(409, `Run ${run.id} is ${run.status}; only a running run can be paused`);
    }
    await store.runs.updateStatus(run.id, to);
    const summary = await store.runs.summary(run.id);
    queue.announce(summary);
    return summary;
  };

  const copyOf = (original: ResponseMap['getRun'] | ResponseMap['createRun'], suffix: string) => ({
    config: original.config,
    experiment: original.experiment ?? undefined,
    name: `${original.name} (${suffix})`,
    tags: original.tags,
  });

  return {
    appInfo: async () => ({
      version: APP_VERSION,
      dataDir: ctx.paths.dataDir,
      transport: 'http',
      cores: availableParallelism(),
      ...(ctx.remote() ? { queue: ctx.remote()!.queue } : {}),
    }),
    listRuns: () => store.runs.list(),
    getRun: async ({ runId: ref }) => {
      const id = await runId(ref);
      const [summary, note, metricNames, checkpoints] = await Promise.all([
        store.runs.summary(id),
        store.notes.get(id),
        store.metrics.listMetricNames(id),
        store.checkpoints.list(id),
      ]);
      return {
        ...summary,
        notes: note?.text ?? '',
        metricNames,
        checkpoints: checkpoints.map(({ runId: _, path: _path, ...info }) => info),
      };
    },
    getSeries: ({ runIds, metric, maxBuckets }) =>
      Promise.all(
        runIds.map(async (ref) => ({
          runId: ref,
          metric,
          buckets: await store.metrics.readSeries(await runId(ref), metric, { maxBuckets: maxBuckets ?? 1000 }),
        })),
      ),
    listMetricNames: async ({ runIds }) => {
      const names = new Set<string>();
      for (const ref of runIds)
        for (const name of await store.metrics.listMetricNames(await runId(ref))) names.add(name);
      return [...names].sort();
    },
    listImages: async ({ runId: ref, kind }) => store.images.list(await runId(ref), kind),
    getImage: async ({ imageId }) => {
      const image = await store.images.get(imageId);
      if (!image) throw new ApiError(404, `Image ${imageId} not found`);
      return { dataUrl: pngDataUrl(image.png) };
    },
    /** Playback: for each image kind, the grid logged at the highest step <= step. */
    imagesAtStep: async ({ runId: ref, step }) => store.images.atOrBefore(await runId(ref), step),

    createRun: (request, options) => createRun(request, { startHere: options.startHere }),
    createSweep: async ({ config, experiment, param, values }) => {
      // One axis of a grid sweep: every member validated before any is created (./sweep.ts).
      const planned = planGrid(parseRunConfig(config), experiment, [{ param, values }], (c) => parseRunConfig(c));
      await admitRunConfigs(
        planned.map((p) => p.config),
        store,
        ctx.paths.datasetsDir,
      );
      const runs = await store.ops.createRuns(
        planned.map((p) => ({ config: p.config, experimentName: experiment, name: p.name })),
        false,
      );
      const summaries = await Promise.all(runs.map((run) => store.runs.summary(run.id)));
      for (const run of summaries) views.broadcast({ type: 'run', run });
      void queue.schedule();
      return summaries;
    },
    duplicateRun: async ({ runId: ref }) => createRun(copyOf(await store.runs.summary(await runId(ref)), 'copy'), {}),
    cancelRun: ({ runId: ref }) => stopRun(ref, 'cancelled'),
    pauseRun: ({ runId: ref }) => stopRun(ref, 'paused'),
    resumeRun: async ({ runId: ref }, options) => {
      const startHere = startsHere(options);
      const resumed = await store.ops.resumeRun(await runId(ref), startHere);
      const summary = await store.runs.summary(resumed.id);
      views.broadcast({ type: 'run', run: summary });
      if (startHere) await queue.start(resumed);
      else void queue.schedule();
      return summary;
    },
    deleteRun: async ({ runId: ref }) => {
      const id = await runId(ref);
      await ctx.checkpoints.deleteRun(id, await store.runs.delete(id));
      views.broadcast({ type: 'run-deleted', runId: id });
      return { deleted: true };
    },
    setNotes: async ({ runId: ref, text }) => {
      await store.notes.set(await runId(ref), text);
      return { ok: true };
    },
    setTags: async ({ runId: ref, tags }) => {
      const id = await runId(ref);
      await store.ops.setTags(id, tags);
      const summary = await store.runs.summary(id);
      views.broadcast({ type: 'run', run: summary });
      return summary;
    },

    exportRun: async ({ runId: ref, checkpoint, out }) =>
      exchange.exportRun(exchangeContext(), await runId(ref), { checkpoint, out }),
    importBundle: async ({ path }) => {
      const { runId: id, manifest: _, ...result } = await exchange.importBundle(exchangeContext(), path);
      const run = await store.runs.summary(id);
      views.broadcast({ type: 'run', run });
      return { run, ...result };
    },
    planReplay: async ({ runId: ref }) =>
      exchange.planReplay(await store.runs.require(await runId(ref)), ctx.backend, ctx.paths.datasetsDir),
    /** Trains the run's config again (same seed) as a new run linked by replay_of; the plan names what may differ. */
    replayRun: async ({ runId: ref }, options) => {
      const original = await store.runs.require(await runId(ref));
      const plan = await exchange.planReplay(original, ctx.backend, ctx.paths.datasetsDir);
      const copy = copyOf(await store.runs.summary(original.id), 'replay');
      const run = await createRun(copy, { startHere: startsHere(options), replayOf: original.id });
      return { run, plan };
    },
    compareRuns: async ({ runIds: [first, second] }) => store.compareRuns(await runId(first), await runId(second)),
    generateSamples: async ({ runId: ref, checkpoint, count, seed }) => {
      const { png, ...image } = await exchange.generateSamples(exchangeContext(), ref, { checkpoint, count, seed });
      return { ...image, dataUrl: pngDataUrl(png) };
    },
    interpolateLatent: async ({ runId: ref, checkpoint, from, to, steps }) => {
      const { png, ...image } = await exchange.interpolateLatent(exchangeContext(), ref, {
        checkpoint,
        from,
        to,
        steps,
      });
      return { ...image, dataUrl: pngDataUrl(png) };
    },

    // Data sets by id (issue #13; the logic lives in ./datasets.ts).
    importDataset: async ({ path, name }) => {
      const dataset = await importDatasetFile(store, ctx.paths.datasetsDir, path, name);
      views.broadcast({ type: 'dataset', dataset });
      return dataset;
    },
    listDatasets: async () => (await store.datasets.list()).map(datasetInfo),

    // Views a researcher needs (issue #15): grid sweeps (the plan and its checks in ./sweep.ts),
    // saved workspaces (store/workspaces.ts), the latent scatter's means (store/latents.ts).
    createGridSweep: async ({ config, experiment, grid, tags, runOn }) => {
      const planned = planGrid(parseRunConfig(config), experiment, grid, (c) => parseRunConfig(c));
      await admitRunConfigs(
        planned.map((p) => p.config),
        store,
        ctx.paths.datasetsDir,
      );
      const runner = onQueue(runOn);
      const runs = await store.ops.createRuns(
        planned.map((p) => ({ config: p.config, experimentName: experiment, name: p.name, tags })),
        runner !== null,
      );
      if (runner) await runner.submit(runs.map((run) => run.id));
      const summaries = await Promise.all(runs.map((run) => store.runs.summary(run.id)));
      if (runner) return summaries; // the queue announced them
      for (const run of summaries) views.broadcast({ type: 'run', run });
      void queue.schedule();
      return summaries;
    },
    getWorkspace: async ({ name = 'default' }) => {
      const saved = await store.workspaces.get(name);
      const parsed = saved ? WorkspaceStateSchema.safeParse(saved.state) : null;
      // A document from another app version that no longer fits the schema reads as none.
      return { name, state: parsed?.success ? parsed.data : null, updatedAt: saved?.updatedAt ?? null };
    },
    saveWorkspace: async ({ name = 'default', state }) => {
      const saved = await store.workspaces.set(name, state);
      return { name: saved.name, state, updatedAt: saved.updatedAt };
    },
    getLatents: async ({ runId: ref, step }) => {
      const id = await runId(ref);
      const record = await store.latents.get(id, step);
      if (step !== undefined && !record) throw new ApiError(404, `Run ${ref} stored no latents at step ${step}`);
      return {
        runId: id,
        evaluations: await store.latents.steps(id),
        step: record?.step ?? null,
        epoch: record?.epoch ?? null,
        count: record?.count ?? 0,
        dims: record?.dims ?? 0,
        means: record ? Array.from(record.means) : [],
        labels: record?.labels ? Array.from(record.labels) : null,
      };
    },
    getTestImage: async ({ runId: ref, index }) => {
      const run = await store.runs.require(await runId(ref));
      const { png, ...image } = await exchange.bundleThread.call(
        'renderTestImage',
        run.config,
        index,
        ctx.paths.datasetsDir,
      );
      return { runId: run.id, index, ...image, dataUrl: pngDataUrl(png) };
    },
  };
}
