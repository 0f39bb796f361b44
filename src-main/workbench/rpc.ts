// A small request protocol between the main thread and a worker thread, after Signal Desktop's SQL
// worker (ts/sql/main.ts, mainWorker.ts): the main thread posts {seq, method, args}; the worker
// answers {seq, error, response}. Errors keep their type across the boundary: the worker sends the
// error's name, message and own fields, and the main thread rebuilds it from the error types it
// was given, so `instanceof BundleError` holds on the main thread as it did in the worker.
import { parentPort, Worker } from 'node:worker_threads';

export interface RpcRequest {
  seq: number;
  method: string;
  args: unknown[];
}

export interface RpcReply {
  seq: number;
  error: SerializedError | null;
  response?: unknown;
}

interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own enumerable fields (status, field, path, ...), where they survive structured clone. */
  fields: Record<string, unknown>;
}

type ErrorType = abstract new (...args: never[]) => Error;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Methods = Record<string, (...args: any[]) => unknown>;

function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    try {
      structuredClone(value);
      fields[key] = value;
    } catch {
      // not cloneable: left out
    }
  }
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

function reviveError(serialized: SerializedError, types: readonly ErrorType[]): Error {
  const type = types.find((candidate) => candidate.name === serialized.name);
  const error = type ? (Object.create(type.prototype) as Error) : new Error(serialized.message);
  Object.assign(error, serialized.fields);
  Object.defineProperty(error, 'message', { value: serialized.message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: serialized.name, writable: true, configurable: true });
  if (serialized.stack)
    Object.defineProperty(error, 'stack', { value: serialized.stack, writable: true, configurable: true });
  return error;
}

/** Worker side: answers each request with the method's result or its error. */
export function serveRequests(methods: Methods): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests runs inside a worker thread');
  port.on('message', async ({ seq, method, args }: RpcRequest) => {
    let reply: RpcReply;
    try {
      const fn = methods[method];
      if (!fn) throw new Error(`Unknown worker method '${method}'`);
      reply = { seq, error: null, response: await fn(...args) };
    } catch (error) {
      reply = { seq, error: serializeError(error) };
    }
    port.postMessage(reply);
  });
}

/**
 * Main-thread side: one worker, started on the first call and again after a crash. It keeps the
 * process alive only while a call is in flight.
 */
export class ThreadClient<Api extends Methods> {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<
    number,
    { worker: Worker; resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  constructor(
    private readonly label: string,
    private readonly entry: () => string,
    private readonly errorTypes: readonly ErrorType[],
    private readonly workerData?: unknown,
  ) {}

  call<M extends keyof Api & string>(method: M, ...args: Parameters<Api[M]>): Promise<Awaited<ReturnType<Api[M]>>> {
    const worker = this.start();
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { worker, resolve: resolve as (value: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ seq, method, args } satisfies RpcRequest);
    });
  }

  /** Stops the worker; calls in flight fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry(), { workerData: this.workerData });
    worker.unref();
    worker.on('message', ({ seq, error, response }: RpcReply) => {
      const waiting = this.pending.get(seq);
      if (!waiting) return;
      this.pending.delete(seq);
      if (![...this.pending.values()].some((p) => p.worker === worker)) worker.unref();
      if (error) waiting.reject(reviveError(error, this.errorTypes));
      else waiting.resolve(response);
    });
    const fail = (reason: string) => {
      if (this.worker === worker) this.worker = null;
      for (const [seq, waiting] of this.pending) {
        if (waiting.worker !== worker) continue;
        this.pending.delete(seq);
        waiting.reject(new Error(`The ${this.label} worker ${reason}`));
      }
    };
    worker.on('error', (error) => fail(`crashed: ${error.message}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }
}
