// rediss://: the queue over TLS, with a password. A server whose certificate is not trusted is
// refused within the connect timeout (the error names the queue without its password); with its
// CA given (VAE_WORKBENCH_REDIS_CA) a run goes out to a worker and comes back complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueueAddress } from '../../../src-main/queue/address';
import { QueueCoordinator } from '../../../src-main/queue/coordinator';
import { RemoteWorker } from '../../../src-main/queue/remoteWorker';
import { Workbench } from '../../../src-main/workbench/service';
import { tinyConfig } from '../../helpers/configs';
import { opensslRequirement, redisRequirement, startRedis, type RedisServer } from '../../helpers/redis';

const ok = redisRequirement(import.meta.filename).ok && opensslRequirement(import.meta.filename).ok;

describe.runIf(ok)('the queue over TLS', () => {
  let server: RedisServer & { caFile?: string };
  let workbench: Workbench;
  beforeAll(async () => {
    server = await startRedis('tls-secret-pw', { tls: true });
    workbench = await Workbench.open({ db: mkdtempSync(join(tmpdir(), 'vwb-tls-')), runQueue: false });
  });
  afterAll(async () => {
    delete process.env.VAE_WORKBENCH_REDIS_CA;
    await workbench?.close();
    await server?.stop();
  });

  it('refuses a server whose certificate it cannot verify, without showing the password', async () => {
    delete process.env.VAE_WORKBENCH_REDIS_CA;
    const address = parseQueueAddress(server.url('tls'));
    const error = await QueueCoordinator.open(workbench, address, {
      connectTimeoutMs: 2000,
      log: () => undefined,
    }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/^Cannot reach the queue at rediss:\/\/:\*\*\*@localhost:\d+\/0\?queue=tls/);
    expect(error?.message).not.toContain('tls-secret-pw');
  });

  it('trains a run through a worker over rediss:// with the CA given', async () => {
    process.env.VAE_WORKBENCH_REDIS_CA = server.caFile;
    const address = parseQueueAddress(server.url('tls'));
    expect(address.redis.tls).toMatchObject({ servername: 'localhost' });
    const coordinator = await QueueCoordinator.open(workbench, address, { log: () => undefined });
    const worker = new RemoteWorker(address, { concurrency: 1, backend: 'wasm', log: () => undefined });
    try {
      await worker.ready();
      const run = await workbench.createRun({ config: tinyConfig({ epochs: 1 }) });
      await coordinator.submit([run.id]);
      const done = await workbench.waitForRun(run.id);
      expect(done.status).toBe('completed');
      const points = await workbench.store.metrics.readSeriesRaw(run.id, 'train/loss');
      expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect((await workbench.getRun({ runId: run.id })).checkpoints.at(-1)?.step).toBe(8);
    } finally {
      await worker.close();
      await coordinator.close();
    }
  });
});
