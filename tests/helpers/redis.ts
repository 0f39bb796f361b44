// A real redis-server for the queue tests: Debian's, on a free loopback port, with a password,
// no persistence, in a temporary folder; stopped (by its pid) when the test is done.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirement, type Requirement } from './requirements';

export function redisRequirement(file: string): Requirement {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return requirement(
    file,
    found.status === 0,
    'redis-server (the BullMQ queue tests start one): apt-get install redis-server',
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  password: string;
  /** redis://:password@127.0.0.1:port/0?queue=name (rediss://:password@localhost:... with TLS) */
  url(queue: string): string;
  stop(): Promise<void>;
}

export function opensslRequirement(file: string): Requirement {
  const found = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return requirement(
    file,
    found.status === 0,
    'openssl (the TLS queue test makes its certificates): apt-get install openssl',
  );
}

/** A CA and a server certificate for localhost / 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=vwb-test-ca']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
} // prettier-ignore

/**
 * With `tls`, the server speaks only TLS (rediss://) with a certificate from its own CA, whose
 * PEM file is `caFile`.
 */
export async function startRedis(
  password = 'tiny-secret-pw',
  options: { tls?: boolean } = {},
): Promise<RedisServer & { caFile?: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vwb-redis-'));
  const certificates = options.tls ? makeCertificates(dir) : null;
  const listen = certificates
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certificates.cert, '--tls-key-file', certificates.key,
       '--tls-ca-cert-file', certificates.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)]; // prettier-ignore
  const child: ChildProcess = spawn(
    'redis-server',
    [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', password],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  return {
    port,
    password,
    url: (queue) =>
      `${certificates ? 'rediss' : 'redis'}://:${password}@${certificates ? 'localhost' : '127.0.0.1'}:${port}/0?queue=${queue}`,
    caFile: certificates?.ca,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
