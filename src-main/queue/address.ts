// The queue's address: `redis://[user][:password@]host[:port][/db][?queue=name]` or `rediss://...`
// (TLS). The password is used to connect and never shown: what is logged or stored is `redacted`.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';

export interface QueueAddress {
  /** The URL without its password (the password shows as ***): safe to log and to store. */
  redacted: string;
  /** The queue's name: its BullMQ queue and the prefix of its Redis keys. */
  name: string;
  /** How ioredis connects (BullMQ's connection options). */
  redis: RedisOptions;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses a queue URL; an error names what is wrong without repeating a password. */
export function parseQueueAddress(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('--queue: expected a URL such as redis://host:6379/0 or rediss://:password@host:6380/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new Error(`--queue: ${url.protocol}// is not a Redis URL; use redis:// or rediss:// (TLS)`);
  if (!url.hostname) throw new Error('--queue: the URL names no host');
  const dbText = url.pathname.replace(/^\//, '') || '0';
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15)
    throw new Error(`--queue: the database number must be 0-15, got '${dbText}'`);
  const name = url.searchParams.get('queue') ?? 'vae-workbench';
  if (!NAME.test(name)) throw new Error(`--queue: the queue name must be 1-64 letters, digits, - or _`);
  const password = url.password ? decodeURIComponent(url.password) : process.env.VAE_WORKBENCH_REDIS_PASSWORD;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const tls = url.protocol === 'rediss:';
  const port = url.port ? Number(url.port) : 6379;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const shown = new URL(url.href);
  if (shown.password) shown.password = '***';
  return {
    redacted: shown.href,
    name,
    redis: {
      host,
      port,
      db,
      username,
      password,
      // TLS verifies the server's certificate against Node's CAs, or the PEM file VAE_WORKBENCH_REDIS_CA names.
      // (SNI takes host names only: an IP address is checked against the certificate without it.)
      tls: tls ? { ...(isIP(host) ? {} : { servername: host }), ...certificateAuthority() } : undefined,
      // BullMQ's blocking calls must not give up while Redis restarts.
      maxRetriesPerRequest: null,
      connectionName: 'vae-workbench',
    },
  };
}

/** A private CA for rediss:// (a self-signed Redis): VAE_WORKBENCH_REDIS_CA names its PEM file. */
function certificateAuthority(): { ca?: Buffer } {
  const file = process.env.VAE_WORKBENCH_REDIS_CA;
  if (!file) return {};
  try {
    return { ca: readFileSync(file) };
  } catch (error) {
    throw new Error(`VAE_WORKBENCH_REDIS_CA: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
