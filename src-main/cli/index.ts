// `vae-workbench`: headless train / runs / show / resume / cancel / delete / serve over the same
// workbench service the desktop app uses. Exit code: 0 on success, 1 when a run fails or
// diverges, 2 on bad input.
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { ACTIVATIONS, ARCHITECTURES, BACKEND_PREFERENCES, BINARIZATIONS, ConfigError, KL_SCHEDULES, LIKELIHOODS, MODEL_KINDS, OBJECTIVES, parseRunConfig } from '../api/config';
import { ApiError, type RunSummary } from '../api/contract';
import { APP_VERSION } from '../api/version';
import { serve } from '../server/http';
import { Workbench } from '../workbench/service';
import { configFromFlags, type TrainFlags } from './options';

const program = new Command();
program
  .name('vae-workbench')
  .description('Train, compare, export and replay variational autoencoders.')
  .version(APP_VERSION)
  .option('--db <path>', 'data folder (or .sqlite file) to use; default: $VAE_WORKBENCH_HOME or the per-user folder the desktop app uses');

function globalDb(): string | undefined {
  return program.opts<{ db?: string }>().db;
}

async function withWorkbench<T>(fn: (workbench: Workbench) => Promise<T>, options: { runQueue?: boolean } = {}): Promise<T> {
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
  .addOption(new Option('--model <kind>', 'model').choices(MODEL_KINDS))
  .addOption(new Option('--architecture <arch>', 'encoder/decoder networks').choices(ARCHITECTURES))
  .option('--latent-dim <n>', 'latent size')
  .option('--ladder-latent-dims <list>', 'ladder: latent size per stochastic layer, bottom first, e.g. 32,16')
  .option('--hidden <list>', 'hidden layer widths, e.g. 512,256')
  .addOption(new Option('--activation <fn>', 'hidden activation').choices(ACTIVATIONS))
  .addOption(new Option('--likelihood <kind>', 'decoder likelihood').choices(LIKELIHOODS))
  .addOption(new Option('--gaussian-variance <kind>', 'gaussian likelihood variance').choices(['fixed', 'learned']))
  .option('--gaussian-sigma <s>', 'gaussian likelihood: fixed sigma')
  .option('--beta <b>', 'weight on the KL term (beta-vae)')
  .option('--capacity-max <nats>', 'controlled capacity: C_max (beta-vae)')
  .option('--capacity-gamma <g>', 'controlled capacity: gamma')
  .option('--capacity-steps <n>', 'controlled capacity: steps for C to reach C_max')
  .option('--dataset <name|path>', 'mnist | fashion-mnist | shapes | path to IDX(.gz), .npy or a folder of PNGs')
  .option('--train-size <n>', 'training examples')
  .option('--test-size <n>', 'test examples')
  .addOption(new Option('--binarization <kind>', 'binarization of grey levels').choices(BINARIZATIONS))
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
  .option('--free-bits <nats>', 'free bits per layer (0 = off)')
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_PREFERENCES))
  .option('--iwae-k <k>', 'importance samples for the test log-likelihood estimate')
  .option('--iwae-examples <n>', 'test examples for the IWAE estimate')
  .option('--eval-every <epochs>', 'evaluate every this many epochs')
  .option('--grid-size <n>', 'image grid side')
  .option('--experiment <name>', 'group the run under this experiment')
  .option('--name <name>', 'a name for the run')
  .option('--tag <tag...>', 'tags')
  .option('--json', 'print the finished run as JSON')
  .action(async (flags: TrainFlags & { experiment?: string; name?: string; tag?: string[]; json?: boolean }) => {
    const config = parseRunConfig(configFromFlags(flags));
    const code = await withWorkbench(async (workbench) => {
      const run = await workbench.createRun({ config, experiment: flags.experiment, name: flags.name, tags: flags.tag }, { startHere: true });
      if (!flags.json) console.log(`Run ${run.id} queued: ${config.model.kind} on ${config.data.dataset}, ${config.train.epochs} epochs`);
      const finished = await followRun(workbench, run.id, !flags.json);
      if (flags.json) console.log(JSON.stringify(finished, null, 2));
      return finished.status === 'completed' ? 0 : 1;
    });
    process.exitCode = code;
  });
void train;

/** Shows a progress bar (terminal) or plain lines (pipes, CI) until the run leaves queued/running. */
async function followRun(workbench: Workbench, runId: string, verbose: boolean): Promise<RunSummary> {
  const tty = verbose && process.stdout.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: 'training [{bar}] {percentage}% | step {value}/{total} | ETA {eta_formatted} | loss {loss}', etaBuffer: 50 },
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
        if (verbose && !tty) console.log(`Run ${runId} running on ${run.backend}: ${run.totalSteps} steps, data set hash ${run.datasetHash?.slice(0, 12)}`);
      }
    }
    if (event.type === 'metrics' && event.runId === runId) {
      const loss = event.points.filter((p) => p.name === 'train/loss').at(-1);
      if (loss) bar?.update(loss.step, { loss: loss.value.toFixed(2) });
      const testElbo = event.points.find((p) => p.name === 'test/elbo');
      if (testElbo && verbose && !tty && testElbo.epoch !== lastEpochLine) {
        lastEpochLine = testElbo.epoch;
        const iwae = event.points.find((p) => p.name === 'test/iwae');
        console.log(`epoch ${testElbo.epoch + 1}: step ${testElbo.step}, test ELBO ${testElbo.value.toFixed(2)} nats, IWAE ${iwae?.value.toFixed(2) ?? '-'} nats`);
      }
    }
  });
  try {
    const finished = await workbench.waitForRun(runId);
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
      if (runs.length === 0) return console.log('No runs yet. Start one with `vae-workbench train --dataset mnist --epochs 1`.');
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
      if (flags.json) return console.log(JSON.stringify(run, null, 2));
      console.log(`Run ${run.id} (${run.name}) — ${run.status}${run.error ? `: ${run.error}` : ''}`);
      console.log(`experiment ${run.experiment ?? '-'}; backend ${run.backend ?? '-'}; app ${run.appVersion}; data set ${run.dataset} (sha256 ${run.datasetHash ?? '-'})`);
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
      return finished.status === 'completed' ? 0 : 1;
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

program
  .command('serve')
  .description('serve the workbench UI and API to a browser on 127.0.0.1 (browser mode)')
  .option('--host <host>', 'interface to bind; anything but 127.0.0.1 exposes the workbench to the network', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', '7860')
  .option('--token <token>', 'access token (default: a random one)')
  .action(async (flags: { host: string; port: string; token?: string }) => {
    const workbench = await Workbench.open({ db: globalDb(), runQueue: true });
    const staticDir = rendererDir();
    const server = await serve(workbench, { host: flags.host, port: Number(flags.port), staticDir, token: flags.token });
    if (flags.host !== '127.0.0.1' && flags.host !== 'localhost') {
      console.warn(`WARNING: serving on ${flags.host}: anyone who can reach this address and has the token can train, read and delete runs.`);
    }
    console.log(`VAE Workbench (browser mode), data in ${workbench.paths.dataDir}`);
    console.log(`Open ${server.openUrl}`);
    const shutdown = async () => {
      await server.close();
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
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else if (error instanceof ApiError) {
    console.error(error.message);
    process.exitCode = error.status === 404 || error.status === 400 || error.status === 409 ? 2 : 1;
  } else {
    console.error(`vae-workbench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
});
