// An in-memory Transport for component tests only: answers from handlers the test sets, records
// every call, and pushes events on demand.
import type { MethodName, RequestOf, ResponseMap, RunSummary, SeriesBucket, WorkbenchEvent } from '@api/contract';
import { parseRunConfig, type RunConfigInput } from '@api/config';
import type { Transport } from '../../src-renderer/src/lib/transport';

type Handlers = { [M in MethodName]?: (request: RequestOf<M>) => ResponseMap[M] | Promise<ResponseMap[M]> };

export class FakeTransport implements Transport {
  readonly kind = 'http' as const;
  readonly calls: { method: MethodName; request: unknown }[] = [];
  readonly listeners = new Set<(event: WorkbenchEvent) => void>();

  constructor(public handlers: Handlers = {}) {}

  async call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseMap[M]> {
    this.calls.push({ method, request });
    const handler = this.handlers[method] as
      ((r: RequestOf<M>) => ResponseMap[M] | Promise<ResponseMap[M]>) | undefined;
    if (!handler) throw new Error(`FakeTransport: no handler for ${method}`);
    return handler(request);
  }

  subscribe(listener: (event: WorkbenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: WorkbenchEvent): void {
    for (const l of this.listeners) l(event);
  }

  callsOf(method: MethodName): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.request);
  }
}

let counter = 0;

/** A run summary with a valid config; any field can be overridden. */
export function makeRun(overrides: Partial<RunSummary> & { configInput?: RunConfigInput } = {}): RunSummary {
  const { configInput, ...rest } = overrides;
  const config = parseRunConfig(configInput ?? {});
  counter++;
  return {
    id: `run-${counter}`,
    name: `run ${counter}`,
    experiment: null,
    status: 'completed',
    modelKind: config.model.kind,
    dataset: config.data.dataset,
    datasetHash: 'abc123',
    backend: 'cpu',
    appVersion: '0.1.0',
    seed: config.train.seed,
    config,
    tags: [],
    createdAt: 1_700_000_000_000 + counter * 1000,
    startedAt: 1_700_000_000_000 + counter * 1000,
    finishedAt: null,
    step: 0,
    epoch: 0,
    totalSteps: 1000,
    error: null,
    replayOf: null,
    final: {},
    testSetHash: null,
    datasetNote: null,
    backendNotes: [],
    ...rest,
  };
}

/** Buckets with step = i * stride and the given `last` values (min = max = mean = last). */
export function makeBuckets(values: number[], stride = 10, wallStart = 1_700_000_000_000): SeriesBucket[] {
  return values.map((v, i) => ({
    step: i * stride,
    epoch: 0,
    wallTime: wallStart + i * 1000,
    min: v,
    max: v,
    last: v,
    mean: v,
    count: 1,
  }));
}

/** Lets pending promise callbacks and Svelte effects run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}
