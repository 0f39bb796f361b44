// `vae-workbench sweep --grid model.beta=1,4,16 --grid train.seed=0,1,2 [train flags]`: a grid
// sweep (every combination) under one experiment, tags on every run. It says how many runs it
// will start before starting them; then this process trains the store's queued runs (the
// sweep's, `--parallel` at a time) until the sweep's are done, unless `--no-wait`.
import { type Command, type Option } from 'commander';
import { parseRunConfig } from '../api/config';
import { ApiError, MAX_GRID_RUNS } from '../api/contract';
import { Workbench } from '../workbench/service';
import { gridSize, planGrid, type GridAxis, type GridValue } from '../workbench/sweep';
import { parseQueueAddress } from '../queue/address';
import { QueueCoordinator } from '../queue/coordinator';
import { configFromFlags, type TrainFlags } from './options';
import { onStopSignal, waitForRuns } from './queue';

/** 'model.beta=1,4,16' -> { param: 'model.beta', values: [1, 4, 16] }; numbers, true/false, else strings. */
export function parseGridFlag(text: string): GridAxis {
  const eq = text.indexOf('=');
  const param = eq > 0 ? text.slice(0, eq).trim() : '';
  if (!/^(model|data|train|eval)\.[A-Za-z]+$/.test(param))
    throw new ApiError(
      400,
      `--grid ${text}: expected KEY=V1,V2,... with a config key such as model.beta or train.seed`,
    );
  const raw = text
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (raw.length === 0) throw new ApiError(400, `--grid ${text}: no values after '='`);
  const values = raw.map((v): GridValue => {
    if (v === 'true' || v === 'false') return v === 'true';
    const n = Number(v);
    return Number.isFinite(n) && /^[-+0-9.eE]+$/.test(v) ? n : v;
  });
  return { param, values };
}

interface SweepFlags extends TrainFlags {
  grid: string[];
  experiment: string;
  tag?: string[];
  dryRun?: boolean;
  wait: boolean;
  parallel?: string;
  json?: boolean;
  queue?: string;
}

/**
 * Registers `sweep` with the same config flags as `train` (copied from that command, so the two
 * never drift apart). `db` gives the global --db.
 */
export function registerSweepCommand(program: Command, train: Command, db: () => string | undefined): Command {
  const sweep = program
    .command('sweep')
    .description('start a grid sweep: one run per combination of the --grid values, under one experiment')
    .requiredOption(
      '--grid <key=values>',
      'a config key and its comma-separated values, e.g. model.beta=1,4,16 (repeat for more keys)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .requiredOption('--experiment <name>', 'the experiment every run of the sweep goes under');
  const own = new Set(['--experiment', '--name', '--json']);
  for (const option of train.options) if (!own.has(option.long ?? '')) sweep.addOption(option as Option);
  sweep
    .option('--dry-run', 'print the runs the sweep would start, and start none')
    .option('--no-wait', 'queue the runs and return (the desktop app or `serve` trains them)')
    .option('--parallel <n>', 'runs trained at once by this process (default 1)')
    .option('--json', 'print the finished runs as JSON')
    .option('--queue <url>', 'hand the runs to `vae-workbench worker`s on this queue (redis://host:6379/0)')
    .action(async (flags: SweepFlags) => {
      const grid = flags.grid.map(parseGridFlag);
      const config = parseRunConfig(configFromFlags(flags));
      const planned = planGrid(config, flags.experiment, grid, parseRunConfig);
      const count = gridSize(grid);
      const shape = grid.map((a) => `${a.param} x ${new Set(a.values).size}`).join(', ');
      const log = flags.json ? () => undefined : (line: string) => console.log(line);
      log(`Sweep "${flags.experiment}": ${count} run${count === 1 ? '' : 's'} (${shape}; at most ${MAX_GRID_RUNS})`);
      for (const p of planned) log(`  ${p.name}`);
      if (flags.dryRun) return;
      if (flags.queue) return sweepOnQueue({ ...flags, queue: flags.queue }, db(), config, grid, log);
      const parallel = Math.max(1, Number(flags.parallel ?? 1) || 1);
      const workbench = await Workbench.open({ db: db(), runQueue: flags.wait, concurrency: parallel });
      try {
        const runs = await workbench.createGridSweep({
          config,
          experiment: flags.experiment,
          grid,
          tags: flags.tag,
        });
        log(`Queued ${runs.length} runs: ${runs.map((r) => r.id).join(' ')}`);
        await waitAndReport(workbench, runs, flags, log);
      } finally {
        await workbench.close();
      }
    });
  return sweep;
}

/** Unless --no-wait: waits for the sweep's runs to end, then prints them with --json. */
async function waitAndReport(
  workbench: Workbench,
  runs: { id: string }[],
  flags: Pick<SweepFlags, 'wait' | 'json'>,
  log: (line: string) => void,
): Promise<void> {
  if (!flags.wait) return;
  const finished = await waitForRuns(
    workbench,
    runs.map((r) => r.id),
    log,
  );
  if (flags.json) console.log(JSON.stringify(finished, null, 2));
}

/** `sweep --queue URL`: the runs go to the queue's workers; this process ingests their events. */
async function sweepOnQueue(
  flags: SweepFlags & { queue: string },
  dbPath: string | undefined,
  config: ReturnType<typeof parseRunConfig>,
  grid: GridAxis[],
  log: (line: string) => void,
): Promise<void> {
  const address = parseQueueAddress(flags.queue);
  const workbench = await Workbench.open({ db: dbPath, runQueue: false });
  // --no-wait: hand the runs over only; `serve --queue` or `coordinate` follows them.
  const coordinator = await QueueCoordinator.open(workbench, address, { log, follow: flags.wait });
  onStopSignal(async () => {
    await coordinator.close();
    await workbench.close();
  });
  try {
    const runs = await workbench.createGridSweep({ config, experiment: flags.experiment, grid, tags: flags.tag });
    await coordinator.submit(runs.map((r) => r.id));
    log(`Queued ${runs.length} runs on ${address.redacted}: ${runs.map((r) => r.id).join(' ')}`);
    await waitAndReport(workbench, runs, flags, log);
  } finally {
    await coordinator.close();
    await workbench.close();
  }
}
