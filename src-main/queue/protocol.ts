// What travels through Redis between the coordinator and the workers (issue #18):
//
//   BullMQ queue <name>        one job per run: its config, the data set hash, how often it was resumed
//   stream   vwb:<name>:events every trainer event, as (run, attempt, seq): XADD by workers, read in order
//                              by the coordinator from the entry id it last stored
//   vwb:<name>:control:<run>   'pause' | 'cancel', set by the coordinator, polled by the worker
//   vwb:<name>:checkpoint:<run> the run's latest checkpoint (JSON meta); its bytes in chunks with sha256
//   vwb:<name>:chunk:<run>:<tag>:<i>  one chunk of a checkpoint's bytes
//   vwb:<name>:chunks:<run>    the set of the run's chunk keys, so a finished run's keys go without a SCAN
//   vwb:<name>:dataset:<run>   sha256 of the data the run's first attempt trained on
//   vwb:<name>:progress:<run>  "step/totalSteps worker" as the worker last said (for people watching)
//
// Sequence numbers: seq = attempt * SEQ_PER_ATTEMPT + n, so they grow across attempts and a
// restarted coordinator skips what it stored already (`seq <= last`).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { IMAGE_KINDS } from '../api/contract';
import type { TrainerEvent } from '../training/events';

export const SEQ_PER_ATTEMPT = 1_000_000_000;
/** A job's attempt number: resumes (new jobs) and re-takes after a stall (BullMQ attempts) both count. */
export const ATTEMPTS_PER_RESUME = 1000;
/** Checkpoint bytes travel in chunks of this size (a Redis value stays small; a big model streams). */
export const CHECKPOINT_CHUNK = 1 << 20;
/** Chunks fetched per MGET (16 MiB a reply). */
const CHUNKS_PER_READ = 16;
/** Keys per DEL when a run's keys go. */
const KEYS_PER_DEL = 1000;

export function queueKeys(name: string) {
  const p = `vwb:${name}:`;
  return {
    events: `${p}events`,
    /** "host:pid" of the coordinator that follows the queue (a short expiry, renewed). */
    coordinator: `${p}coordinator`,
    control: (runId: string) => `${p}control:${runId}`,
    checkpoint: (runId: string) => `${p}checkpoint:${runId}`,
    chunk: (runId: string, tag: string, index: number) => `${p}chunk:${runId}:${tag}:${index}`,
    /** The set of the run's chunk keys (putCheckpointChunks adds, deleteCheckpointChunks removes). */
    chunks: (runId: string) => `${p}chunks:${runId}`,
    dataset: (runId: string) => `${p}dataset:${runId}`,
    progress: (runId: string) => `${p}progress:${runId}`,
    /** Every key of a run but its chunks (those are the members of `chunks`). */
    ofRun: (runId: string) => [
      `${p}control:${runId}`,
      `${p}checkpoint:${runId}`,
      `${p}chunks:${runId}`,
      `${p}dataset:${runId}`,
      `${p}progress:${runId}`,
    ],
  };
}
export type QueueKeys = ReturnType<typeof queueKeys>;

/** A job's data: what a worker needs to train a run. The config is validated again by the worker. */
export const JobDataSchema = z
  .object({
    runId: z.string().regex(/^[0-9a-f]{8}$/),
    name: z.string().max(400),
    config: z.unknown(),
    resumedCount: z.number().int().min(0).max(1_000_000),
    /** The data set's sha256 as the coordinator recorded it (null before the run first started). */
    datasetHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
  })
  .strict();
export type JobData = z.infer<typeof JobDataSchema>;

export const CheckpointMetaSchema = z
  .object({
    tag: z.string().regex(/^[0-9A-Za-z:-]{1,80}$/),
    step: z.number().int().min(0),
    epoch: z.number().int().min(0),
    kind: z.enum(['epoch', 'pause', 'final']),
    size: z.number().int().min(0),
    chunks: z.number().int().min(0).max(100_000),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type CheckpointMeta = z.infer<typeof CheckpointMetaSchema>;

/** What a worker says about itself on every entry: "host:pid" and the host. */
export interface Sender {
  worker: string;
  host: string;
}

/** A trainer event as it travels: a checkpoint carries its meta (its bytes are in chunks). */
export type WireEvent =
  | Exclude<TrainerEvent, { type: 'checkpoint' }>
  | { type: 'checkpoint'; step: number; epoch: number; kind: 'epoch' | 'pause' | 'final'; meta: CheckpointMeta };

export interface StreamEntry extends Sender {
  id: string;
  runId: string;
  attempt: number;
  seq: number;
  event: WireEvent;
}

const finite = z.number().refine(Number.isFinite, 'not finite');
const step = z.number().int().min(0);
const MetricPointSchema = z.object({
  name: z.string().min(1).max(200),
  step,
  epoch: step,
  value: finite,
  wallTime: finite,
});
/** The JSON part of each event kind; binary fields (png, means, labels) travel beside it. */
const WireJsonSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    backend: z.string().max(400),
    backendNotes: z.array(z.string().max(2000)).max(50),
    datasetHash: z.string().max(64),
    datasetSource: z.string().max(2000),
    testSetHash: z.string().max(64),
    testSplit: z.enum(['published', 'seeded', 'generated']),
    totalSteps: step,
    stepsPerEpoch: step,
    startStep: step,
  }),
  z.object({ type: z.literal('metrics'), points: z.array(MetricPointSchema).max(100_000) }),
  z.object({
    type: z.literal('image'),
    kind: z.enum(IMAGE_KINDS),
    step,
    epoch: step,
    width: z.number().int().min(1).max(4096),
    height: z.number().int().min(1).max(4096),
  }),
  z.object({
    type: z.literal('checkpoint'),
    step,
    epoch: step,
    kind: z.enum(['epoch', 'pause', 'final']),
    meta: CheckpointMetaSchema,
  }),
  z.object({ type: z.literal('progress'), step, epoch: step, samplesPerSec: finite }),
  z.object({
    type: z.literal('finished'),
    status: z.enum(['completed', 'cancelled', 'paused', 'diverged', 'failed']),
    step,
    epoch: step,
    error: z.string().max(4000).nullable(),
  }),
  z.object({
    type: z.literal('latents'),
    step,
    epoch: step,
    count: z.number().int().min(0).max(100_000),
    dims: z.number().int().min(0).max(4096),
    hasLabels: z.boolean(),
  }),
]);

const asBuffer = (array: ArrayBufferView): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

/** The fields of one stream entry (XADD key * ...fields). */
export function encodeEntry(
  runId: string,
  attempt: number,
  seq: number,
  sender: Sender,
  event: WireEvent,
): (string | Buffer)[] {
  const head = [
    'run',
    runId,
    'attempt',
    String(attempt),
    'seq',
    String(seq),
    'worker',
    sender.worker,
    'host',
    sender.host,
  ];
  switch (event.type) {
    case 'image': {
      const { png, ...json } = event;
      return [...head, 'json', JSON.stringify(json), 'bin', asBuffer(png)];
    }
    case 'latents': {
      const { means, labels, ...json } = event;
      const fields = [...head, 'json', JSON.stringify({ ...json, hasLabels: labels !== null }), 'bin', asBuffer(means)];
      return labels ? [...fields, 'bin2', asBuffer(labels)] : fields;
    }
    default:
      return [...head, 'json', JSON.stringify(event)];
  }
}

/** A copy in fresh, aligned memory (a Redis reply's Buffer may sit at any offset of a shared pool). */
function copyBytes(buffer: Buffer): Uint8Array {
  const out = new Uint8Array(buffer.length);
  out.set(buffer);
  return out;
}

/** Reads one stream entry (XREAD reply as Buffers); throws on anything malformed. */
export function decodeEntry(id: string, raw: Buffer[]): StreamEntry {
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < raw.length; i += 2) fields.set(raw[i].toString(), raw[i + 1]);
  const text = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`stream entry ${id} has no '${name}'`);
    return value.toString();
  };
  const runId = text('run');
  if (!/^[0-9a-f]{8}$/.test(runId)) throw new Error(`stream entry ${id}: bad run id`);
  const attempt = Number(text('attempt'));
  const seq = Number(text('seq'));
  if (!Number.isSafeInteger(attempt) || !Number.isSafeInteger(seq)) throw new Error(`stream entry ${id}: bad sequence`);
  const json = WireJsonSchema.parse(JSON.parse(text('json')));
  let event: WireEvent;
  if (json.type === 'image') {
    event = { ...json, png: copyBytes(fields.get('bin') ?? Buffer.alloc(0)) };
  } else if (json.type === 'latents') {
    const { hasLabels, ...rest } = json;
    const means = copyBytes(fields.get('bin') ?? Buffer.alloc(0));
    if (means.byteLength !== rest.count * rest.dims * 4)
      throw new Error(`stream entry ${id}: latents of the wrong size`);
    const labelBytes = hasLabels ? copyBytes(fields.get('bin2') ?? Buffer.alloc(0)) : null;
    if (labelBytes && labelBytes.byteLength !== rest.count * 4)
      throw new Error(`stream entry ${id}: labels of the wrong size`);
    event = {
      ...rest,
      means: new Float32Array(means.buffer),
      labels: labelBytes ? new Int32Array(labelBytes.buffer) : null,
    };
  } else {
    event = json;
  }
  return { id, runId, attempt, seq, worker: text('worker'), host: text('host'), event };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Stores a checkpoint's bytes in chunks and returns its meta; the caller points the run at it
 * (with the event that announces it, in one MULTI), so a reader never sees half a checkpoint.
 */
export async function putCheckpointChunks(
  redis: Redis,
  keys: QueueKeys,
  runId: string,
  tag: string,
  checkpoint: { step: number; epoch: number; kind: 'epoch' | 'pause' | 'final'; bytes: Uint8Array },
): Promise<CheckpointMeta> {
  const { bytes } = checkpoint;
  const chunks = Math.ceil(bytes.byteLength / CHECKPOINT_CHUNK);
  const pipeline = redis.pipeline();
  for (let i = 0; i < chunks; i++) {
    const key = keys.chunk(runId, tag, i);
    pipeline.sadd(keys.chunks(runId), key); // first: a chunk is never stored without being listed
    pipeline.set(key, asBuffer(bytes.subarray(i * CHECKPOINT_CHUNK, (i + 1) * CHECKPOINT_CHUNK)));
  }
  const results = await pipeline.exec();
  for (const [error] of results ?? []) if (error) throw error;
  return {
    tag,
    step: checkpoint.step,
    epoch: checkpoint.epoch,
    kind: checkpoint.kind,
    size: bytes.byteLength,
    chunks,
    sha256: sha256Hex(bytes),
  };
}

/** Reads a checkpoint's chunks and checks their size and sha256 against its meta. */
export async function getCheckpointBytes(
  redis: Redis,
  keys: QueueKeys,
  runId: string,
  meta: CheckpointMeta,
): Promise<Uint8Array> {
  const out = new Uint8Array(meta.size);
  let offset = 0;
  // One round trip per CHUNKS_PER_READ chunks (MGET), not one per chunk.
  for (let first = 0; first < meta.chunks; first += CHUNKS_PER_READ) {
    const indices = Array.from({ length: Math.min(CHUNKS_PER_READ, meta.chunks - first) }, (_, i) => first + i);
    const replies = await redis.mgetBuffer(...indices.map((i) => keys.chunk(runId, meta.tag, i)));
    for (const [n, chunk] of replies.entries()) {
      if (!chunk)
        throw new Error(`Checkpoint ${meta.tag} of run ${runId}: chunk ${indices[n]} of ${meta.chunks} is missing`);
      if (offset + chunk.length > meta.size)
        throw new Error(`Checkpoint ${meta.tag} of run ${runId} is larger than its meta says`);
      out.set(chunk, offset);
      offset += chunk.length;
    }
  }
  if (offset !== meta.size) throw new Error(`Checkpoint ${meta.tag} of run ${runId}: ${offset} of ${meta.size} bytes`);
  const sha256 = sha256Hex(out);
  if (sha256 !== meta.sha256)
    throw new Error(`Checkpoint ${meta.tag} of run ${runId}: sha256 ${sha256} is not ${meta.sha256}`);
  return out;
}

export async function deleteCheckpointChunks(
  redis: Redis,
  keys: QueueKeys,
  runId: string,
  meta: CheckpointMeta,
): Promise<void> {
  if (meta.chunks === 0) return;
  const names = Array.from({ length: meta.chunks }, (_, i) => keys.chunk(runId, meta.tag, i));
  const results = await redis
    .multi()
    .del(...names)
    .srem(keys.chunks(runId), ...names)
    .exec();
  for (const [error] of results ?? []) if (error) throw error;
}

/**
 * Deletes every key Redis holds for a run, its checkpoint chunks included: O(the run's keys), read
 * from its `chunks` set (no SCAN over the whole database).
 */
export async function deleteRunKeys(redis: Redis, keys: QueueKeys, runId: string): Promise<void> {
  const chunks = await redis.smembers(keys.chunks(runId));
  for (let at = 0; at < chunks.length; at += KEYS_PER_DEL) await redis.del(...chunks.slice(at, at + KEYS_PER_DEL));
  await redis.del(...keys.ofRun(runId));
}

/** The run's latest checkpoint meta, or null. */
export async function latestCheckpoint(redis: Redis, keys: QueueKeys, runId: string): Promise<CheckpointMeta | null> {
  const text = await redis.get(keys.checkpoint(runId));
  return text ? CheckpointMetaSchema.parse(JSON.parse(text)) : null;
}

/** Redis commands wait for a connection indefinitely (BullMQ needs that); opening must not. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
