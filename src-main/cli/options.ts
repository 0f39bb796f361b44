// Maps `vae-workbench train` flags onto a RunConfigInput; validation happens once, in parseRunConfig,
// the same strict root schema HTTP and IPC use. A --config file is read bounded (a regular file of
// at most MAX_CONFIG_FILE_BYTES) and its name is in every error about it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import {
  BUILTIN_DATASETS,
  ConfigError,
  MODEL_KINDS,
  parseRunConfig,
  type RunConfig,
  type RunConfigInput,
} from '../api/config';
import { MAX_CONFIG_FILE_BYTES, readBoundedFile } from '../data/files';
import { modelFlags, type FieldSpec } from '../models/configFields';

/**
 * The parsed `train` flags. The model's flags are derived from the model schemas (modelFlags(),
 * models/configFields.ts): commander stores `--codebook-size` as `codebookSize`, and so on.
 */
export interface TrainFlags {
  config?: string;
  model?: string;
  [modelFlag: string]: string | string[] | boolean | undefined;
  dataset?: string;
  trainSize?: string;
  testSize?: string;
  binarization?: string;
  splitSeed?: string;
  /** commander's --no-dequantize: false when given, else true (the default, which leaves the field out). */
  dequantize?: boolean;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  seed?: string;
  objective?: string;
  objectiveSamples?: string;
  klSchedule?: string;
  warmupSteps?: string;
  cycles?: string;
  cycleRatio?: string;
  freeBits?: string;
  freeBitsPer?: string;
  backend?: string;
  iwaeK?: string;
  iwaeExamples?: string;
  evalEvery?: string;
  gridSize?: string;
  migPoints?: string;
}

/**
 * The `train` (and `sweep`) options of the model fields, from the schemas: the type gives the
 * argument (a number, a comma list, a choice), the field's meta the help, and the kinds that read
 * it close the help: '--flow-length <integer>  planar / iaf posterior: flow steps K (1-64; vae, beta-vae)'.
 */
export function modelOptions(): Option[] {
  return modelFlags().map(({ spec, kinds, readers }) => {
    const argument = spec.type === 'integer-list' ? 'list' : spec.type === 'enum' ? 'choice' : spec.type;
    const range = spec.minimum !== undefined && spec.maximum !== undefined ? `${spec.minimum}-${spec.maximum}; ` : '';
    const text = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));
    const same = (pick: (r: (typeof readers)[number]) => string) => readers.every((r) => pick(r) === pick(readers[0]));
    // One description where every kind reads the field alike, else each kind's own ('beta-tcvae: ... TC').
    const help = same((r) => r.description)
      ? `${spec.description} (${range}${kinds.length === MODEL_KINDS.length ? 'every model' : kinds.join(', ')}${
          readers[0].default !== null ? `; default ${text(readers[0].default)}` : ''
        })`
      : `${readers.map((r) => `${r.kind}: ${r.description}`).join('; ')} (${range}default ${
          same((r) => text(r.default))
            ? text(readers[0].default)
            : readers.map((r) => `${text(r.default)} for ${r.kind}`).join(', ')
        })`;
    const option = new Option(`--${spec.flag} <${argument}>`, help);
    return spec.options ? option.choices(spec.options.map(String)) : option;
  });
}

/** commander's attribute name of a flag: --codebook-size -> codebookSize. */
const flagAttribute = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A model flag's value as its field's type; undefined when the flag is not given. */
function flagValue(flags: TrainFlags, spec: FieldSpec): unknown {
  const raw = flags[flagAttribute(spec.flag)];
  if (typeof raw !== 'string') return undefined;
  if (spec.type === 'integer' || spec.type === 'number') return number(raw);
  if (spec.type === 'integer-list') return list(raw);
  return raw;
}

/** A number flag; a non-number becomes NaN so the schema names the field ("expected number, received NaN"). */
const number = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));
const list = (value: string | undefined): number[] | undefined =>
  value === undefined ? undefined : value.split(',').map((part) => Number(part.trim()));

function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

const CONFIG_GROUPS = ['model', 'data', 'train', 'eval'] as const;

/**
 * A --config file as a JSON object: refused, naming the file, when it is not a regular file, is
 * over the size limit, is not JSON, or is not an object (null, an array, a string, a number), or
 * when one of its groups is not an object. Unknown keys stay, for the strict schema to refuse.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  const fail = (message: string, path = '(root)') => new ConfigError(`${file}: ${message}`, [{ path, message }]);
  let text: string;
  try {
    text = readBoundedFile(file, MAX_CONFIG_FILE_BYTES, 'config file').toString('utf8');
  } catch (error) {
    throw new ConfigError((error as Error).message, [{ path: '(root)', message: (error as Error).message }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw fail(`not valid JSON (${(error as Error).message})`);
  }
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw fail(`a run config must be a JSON object like {"model": {...}, "train": {...}}, found ${kind}`);
  }
  const config = parsed as Record<string, unknown>;
  for (const group of CONFIG_GROUPS) {
    if (group in config && !isObject(config[group])) throw fail(`${group}: expected an object`, group);
  }
  return config;
}

/** The flags (over an optional --config file) as a validated RunConfig; errors name the file when there is one. */
export function runConfigFromFlags(flags: TrainFlags, cwd = process.cwd()): RunConfig {
  const input = configFromFlags(flags, cwd);
  try {
    return parseRunConfig(input);
  } catch (error) {
    if (error instanceof ConfigError && flags.config) {
      throw new ConfigError(`${resolve(cwd, flags.config)}: ${error.message}`, error.issues);
    }
    throw error;
  }
}

/** Dataset names stay as they are; a path is made absolute so a run can be resumed from anywhere. */
export function resolveDatasetArgument(dataset: string, cwd = process.cwd()): string {
  if (dataset.trim() === '')
    throw new ConfigError(
      '--dataset: an empty name; give mnist, fashion-mnist, shapes or a path to a data file or folder',
      [{ path: 'data.dataset', message: 'empty' }],
    );
  if ((BUILTIN_DATASETS as readonly string[]).includes(dataset)) return dataset;
  const absolute = resolve(cwd, dataset);
  return existsSync(absolute) ? absolute : dataset;
}

export function configFromFlags(flags: TrainFlags, cwd = process.cwd()): RunConfigInput {
  const base = (flags.config ? readConfigFile(resolve(cwd, flags.config)) : {}) as Record<
    string,
    Record<string, unknown>
  >;
  const model: Record<string, unknown> = { ...(base.model ?? {}) };
  const data: Record<string, unknown> = { ...(base.data ?? {}) };
  const train: Record<string, unknown> = { ...(base.train ?? {}) };
  const evaluation: Record<string, unknown> = { ...(base.eval ?? {}) };

  assign(model, 'kind', flags.model);
  // One flag per model field (an object field's inner fields each their own: --capacity-max ...).
  for (const { spec, path } of modelFlags()) {
    const value = flagValue(flags, spec);
    if (value === undefined) continue;
    if (path.length === 1) model[path[0]] = value;
    else model[path[0]] = { ...(model[path[0]] as Record<string, unknown> | undefined), [path[1]]: value };
  }
  assign(data, 'dataset', flags.dataset === undefined ? undefined : resolveDatasetArgument(flags.dataset, cwd));
  assign(data, 'trainSize', number(flags.trainSize));
  assign(data, 'testSize', number(flags.testSize));
  assign(data, 'binarization', flags.binarization);
  assign(data, 'splitSeed', number(flags.splitSeed));
  if (flags.dequantize === false) data.dequantize = false;
  assign(train, 'epochs', number(flags.epochs));
  assign(train, 'batchSize', number(flags.batchSize));
  assign(train, 'lr', number(flags.lr));
  assign(train, 'seed', number(flags.seed));
  assign(train, 'objective', flags.objective);
  assign(train, 'objectiveSamples', number(flags.objectiveSamples));
  assign(train, 'klSchedule', flags.klSchedule);
  assign(train, 'warmupSteps', number(flags.warmupSteps));
  assign(train, 'cycles', number(flags.cycles));
  assign(train, 'cycleRatio', number(flags.cycleRatio));
  assign(train, 'freeBits', number(flags.freeBits));
  assign(train, 'freeBitsPer', flags.freeBitsPer);
  assign(train, 'backend', flags.backend);
  assign(evaluation, 'iwaeK', number(flags.iwaeK));
  assign(evaluation, 'iwaeExamples', number(flags.iwaeExamples));
  assign(evaluation, 'everyEpochs', number(flags.evalEvery));
  assign(evaluation, 'gridSize', number(flags.gridSize));
  assign(evaluation, 'migPoints', number(flags.migPoints));
  return { ...base, model, data, train, eval: evaluation } as RunConfigInput;
}
