// Many machines (issue #18): `worker --queue URL` trains jobs from the queue; `coordinate --queue URL`
// follows the runs in flight on a queue into this store (after a restart, say); `sweep --queue URL`
// (in ./sweep.ts) hands a sweep's runs to the queue. The URL's password is never printed.
import { Option, type Command } from 'commander';
import { BACKEND_PREFERENCES, type RunConfig } from '../api/config';
import type { RunSummary } from '../api/contract';
import { parseQueueAddress } from '../queue/address';
import { QueueCoordinator } from '../queue/coordinator';
import { RemoteWorker } from '../queue/remoteWorker';
import { resolveDataPaths } from '../workbench/paths';
import { Workbench } from '../workbench/service';

/** Queue timings for tests and small set-ups: VAE_WORKBENCH_QUEUE_LOCK_MS (BullMQ lock and stalled check). */
function lockTimings(): { lockDurationMs?: number; stalledIntervalMs?: number } {
  const ms = Number(process.env.VAE_WORKBENCH_QUEUE_LOCK_MS);
  return Number.isFinite(ms) && ms > 0 ? { lockDurationMs: ms, stalledIntervalMs: Math.max(250, ms / 2) } : {};
}

/** `serve --queue URL`: the server's store follows the queue's runs in flight, and new runs may go to it. */
export async function openCoordinator(workbench: Workbench, url: string): Promise<QueueCoordinator> {
  const address = parseQueueAddress(url);
  const coordinator = await QueueCoordinator.open(workbench, address);
  // The form's "Run on: queue" (and the API's runOn) hand new runs to it.
  workbench.attachRemote({ queue: address.redacted, submit: (ids) => coordinator.submit(ids) });
  console.log(`Following ${coordinator.inFlight.length} run(s) in flight on ${address.redacted}`);
  return coordinator;
}

/** Waits for the runs (local or remote) to end, printing each end; exit code 0 when every run completed. */
export async function waitForRuns(
  workbench: Workbench,
  runIds: readonly string[],
  log: (line: string) => void,
): Promise<RunSummary[]> {
  const finished = await Promise.all(
    runIds.map((id) =>
      workbench.waitForRun(id).then((done) => {
        const elbo = done.final['test/elbo'];
        log(`${done.id} ${done.status.padEnd(9)} ${done.name}  test ELBO ${elbo?.toFixed(2) ?? '-'}`);
        return done;
      }),
    ),
  );
  process.exitCode = finished.every((r) => r.status === 'completed') ? 0 : 1;
  return finished;
}

/** Ctrl-C / SIGTERM: stop following (the runs go on on the workers; `coordinate` follows them again). */
export function onStopSignal(stop: () => Promise<void>): void {
  const handler = () => {
    console.log(
      '\nStopping; the runs go on on the workers. Follow them again with `vae-workbench coordinate --queue URL`.',
    );
    void stop().then(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

export function registerQueueCommands(program: Command, db: () => string | undefined): void {
  program
    .command('worker')
    .description('take runs from a queue (BullMQ on Redis) and train them here; events go back to the coordinator')
    .requiredOption('--queue <url>', 'redis://[:password@]host[:port][/db][?queue=name], or rediss:// for TLS')
    .option('--concurrency <n>', 'runs trained at once (default 1)', '1')
    .addOption(new Option('--backend <name>', 'tfjs backend for every run').choices(BACKEND_PREFERENCES))
    .action(async (flags: { queue: string; concurrency: string; backend?: RunConfig['train']['backend'] }) => {
      const address = parseQueueAddress(flags.queue);
      const concurrency = Math.max(1, Math.floor(Number(flags.concurrency)) || 1);
      // Imported data sets ('dataset:<id>') load from this machine's data folder (--db), imported there too.
      const { datasetsDir } = resolveDataPaths(db());
      const worker = new RemoteWorker(address, { concurrency, backend: flags.backend, datasetsDir, ...lockTimings() });
      await worker.ready();
      console.log(`Worker ${process.pid} taking runs from ${address.redacted} (${concurrency} at a time)`);
      const stop = async () => {
        console.log('Stopping: running runs go back to the queue from a checkpoint, for another worker.');
        await worker.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });

  program
    .command('coordinate')
    .description("follow a queue's runs in flight into this store until they end (e.g. after a coordinator restart)")
    .requiredOption('--queue <url>', 'the queue the runs were handed to')
    .option('--resume <run...>', 'continue these stopped runs on the queue from their latest checkpoint')
    .action(async (flags: { queue: string; resume?: string[] }) => {
      const address = parseQueueAddress(flags.queue);
      const workbench = await Workbench.open({ db: db(), runQueue: false });
      const coordinator = await QueueCoordinator.open(workbench, address);
      onStopSignal(async () => {
        await coordinator.close();
        await workbench.close();
      });
      try {
        for (const ref of flags.resume ?? []) {
          const run = await workbench.getRun({ runId: ref });
          await coordinator.resume(run.id);
        }
        const runs = coordinator.inFlight;
        console.log(`Following ${runs.length} run${runs.length === 1 ? '' : 's'} on ${address.redacted}`);
        await waitForRuns(workbench, runs, (line) => console.log(line));
      } finally {
        await coordinator.close();
        await workbench.close();
      }
    });
}
