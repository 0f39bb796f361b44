// A run's keys in Redis: its checkpoint chunks are listed in a per-run set as they are written, so
// a finished run's keys go in O(its own keys), never by a SCAN of the whole database; chunks come
// back a batch per round trip. Against a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  CHECKPOINT_CHUNK,
  deleteCheckpointChunks,
  deleteRunKeys,
  getCheckpointBytes,
  putCheckpointChunks,
  queueKeys,
} from '../../../src-main/queue/protocol';
import { parseQueueAddress } from '../../../src-main/queue/address';
import { redisRequirement, startRedis, type RedisServer } from '../../helpers/redis';

const redis = redisRequirement(import.meta.filename);

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
async function commandCounts(client: Redis): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [, name, calls] of (await client.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g))
    counts[name] = Number(calls);
  return counts;
}

const bytesOf = (size: number, seed: number) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff);

describe.runIf(redis.ok)("a run's keys in Redis", () => {
  let server: RedisServer;
  let client: Redis;
  const keys = queueKeys('keys');
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(parseQueueAddress(server.url('keys')).redis);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('lists every chunk of a run in its set, and forgets the run with no SCAN, leaving other runs alone', async () => {
    const size = 3 * CHECKPOINT_CHUNK + 5; // 4 chunks
    const first = await putCheckpointChunks(client, keys, 'aaaa0001', 'c0-8', {
      step: 8,
      epoch: 0,
      kind: 'epoch',
      bytes: bytesOf(size, 1),
    });
    const second = await putCheckpointChunks(client, keys, 'aaaa0001', 'c0-16', {
      step: 16,
      epoch: 1,
      kind: 'pause',
      bytes: bytesOf(CHECKPOINT_CHUNK, 2),
    });
    await putCheckpointChunks(client, keys, 'bbbb0002', 'c0-8', {
      step: 8,
      epoch: 0,
      kind: 'epoch',
      bytes: bytesOf(10, 3),
    });
    await client.set(keys.progress('aaaa0001'), '16/32 w');
    await client.set(keys.control('aaaa0001'), 'pause');
    expect([first.chunks, second.chunks]).toEqual([4, 1]);
    expect((await client.smembers(keys.chunks('aaaa0001'))).sort()).toEqual(
      [...[0, 1, 2, 3].map((i) => keys.chunk('aaaa0001', 'c0-8', i)), keys.chunk('aaaa0001', 'c0-16', 0)].sort(),
    );

    // Chunks come back whole, checked against the meta, one MGET per 16 chunks.
    await client.config('RESETSTAT');
    expect(Buffer.from(await getCheckpointBytes(client, keys, 'aaaa0001', first)).equals(bytesOf(size, 1))).toBe(true);
    const reads = await commandCounts(client);
    expect([reads.mget, reads.get ?? 0]).toEqual([1, 0]);

    // An older checkpoint's chunks go by name, and leave the set.
    await deleteCheckpointChunks(client, keys, 'aaaa0001', first);
    expect(await client.smembers(keys.chunks('aaaa0001'))).toEqual([keys.chunk('aaaa0001', 'c0-16', 0)]);

    // Unrelated keys: forgetting a run must not walk them.
    const filler = client.pipeline();
    for (let i = 0; i < 5000; i++) filler.set(`other:${i}`, '1');
    await filler.exec();
    await client.config('RESETSTAT');
    await deleteRunKeys(client, keys, 'aaaa0001');
    const counts = await commandCounts(client);
    expect(counts.scan ?? 0).toBe(0);
    expect(counts).toEqual({ smembers: 1, del: 2 });
    expect((await client.keys('vwb:keys:*')).sort()).toEqual(
      [keys.chunk('bbbb0002', 'c0-8', 0), keys.chunks('bbbb0002')].sort(),
    );
    expect(await client.dbsize()).toBe(5002);
  });
});
