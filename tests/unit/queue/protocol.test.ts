// The queue's address (passwords never shown) and its wire format (events survive the round trip,
// malformed entries are refused), without a Redis server.
import { describe, expect, it } from 'vitest';
import { parseQueueAddress } from '../../../src-main/queue/address';
import { decodeEntry, encodeEntry, SEQ_PER_ATTEMPT, type WireEvent } from '../../../src-main/queue/protocol';

const sender = { worker: 'host-a:123', host: 'host-a' };
const asFields = (fields: (string | Buffer)[]) => fields.map((f) => (typeof f === 'string' ? Buffer.from(f) : f));

describe('queue address', () => {
  it('connects with the password and shows it only as ***', () => {
    const address = parseQueueAddress('redis://:s3cr%40t@10.0.0.5:6380/2?queue=betas');
    expect(address.redis).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 's3cr@t' });
    expect(address.redis.tls).toBeUndefined();
    expect(address.name).toBe('betas');
    expect(address.redacted).toBe('redis://:***@10.0.0.5:6380/2?queue=betas');
    expect(address.redacted).not.toContain('s3cr');
  });

  it('rediss:// turns TLS on and checks the server name; defaults are port 6379, db 0, queue vae-workbench', () => {
    const address = parseQueueAddress('rediss://user:pw@redis.example.org');
    expect(address.redis).toMatchObject({ host: 'redis.example.org', port: 6379, db: 0, username: 'user' });
    expect(address.redis.tls).toEqual({ servername: 'redis.example.org' });
    expect(address.name).toBe('vae-workbench');
    expect(address.redacted).toBe('rediss://user:***@redis.example.org');
    expect(parseQueueAddress('rediss://10.1.2.3:6380').redis.tls).toEqual({});
  });

  it('refuses what is not a Redis URL, without repeating the password', () => {
    expect(() => parseQueueAddress('http://:pw@host')).toThrow(/not a Redis URL/);
    expect(() => parseQueueAddress('redis://:hunter2@host/99')).toThrow(/0-15/);
    expect(() => parseQueueAddress('redis://:hunter2@host/0?queue=a b')).toThrow(/queue name/);
    try {
      parseQueueAddress('redis://:hunter2@host/99');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('stream entries', () => {
  it('carry metrics, images and latents through a round trip, with run, attempt and seq', () => {
    const seq = 2 * SEQ_PER_ATTEMPT + 7;
    const events: WireEvent[] = [
      { type: 'metrics', points: [{ name: 'train/loss', step: 3, epoch: 0, value: 123.5, wallTime: 1e12 }] },
      {
        type: 'image',
        kind: 'samples',
        step: 8,
        epoch: 0,
        width: 2,
        height: 3,
        png: new Uint8Array([137, 80, 78, 71]),
      },
      {
        type: 'latents',
        step: 8,
        epoch: 0,
        count: 2,
        dims: 3,
        means: new Float32Array([0.5, -1, 2, 3, 4.25, -0.125]),
        labels: new Int32Array([7, 1]),
      },
    ];
    for (const event of events) {
      const entry = decodeEntry('1-0', asFields(encodeEntry('0a1b2c3d', 2, seq, sender, event)));
      expect(entry).toMatchObject({ runId: '0a1b2c3d', attempt: 2, seq, worker: 'host-a:123', host: 'host-a' });
      expect(entry.event).toEqual(event);
    }
  });

  it('refuses a malformed entry: bad run id, a non-finite value, latents of the wrong size', () => {
    const metrics: WireEvent = { type: 'metrics', points: [{ name: 'x', step: 1, epoch: 0, value: 1, wallTime: 1 }] };
    expect(() => decodeEntry('1-0', asFields(encodeEntry('../etc', 1, 1, sender, metrics)))).toThrow(/bad run id/);
    const fields = asFields(encodeEntry('0a1b2c3d', 1, 1, sender, metrics));
    fields[fields.indexOf(fields.find((f) => f.toString() === 'json')!) + 1] = Buffer.from(
      JSON.stringify({ type: 'metrics', points: [{ name: 'x', step: 1, epoch: 0, value: 'NaN', wallTime: 1 }] }),
    );
    expect(() => decodeEntry('1-0', fields)).toThrow();
    const latents: WireEvent = {
      type: 'latents',
      step: 1,
      epoch: 0,
      count: 2,
      dims: 2,
      means: new Float32Array(3),
      labels: null,
    };
    expect(() => decodeEntry('1-0', asFields(encodeEntry('0a1b2c3d', 1, 1, sender, latents)))).toThrow(/wrong size/);
  });
});
