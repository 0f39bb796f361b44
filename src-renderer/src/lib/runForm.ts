// The new-run form as plain data: text field values -> a validated RunConfig (with the same zod
// schema and cross-field rules the server uses, so messages appear beside the fields before any
// request), or a sweep request. No DOM, no Svelte. The schema itself (zod) is not imported here:
// it reaches buildRequest as a `ConfigCheck` loaded lazily from ./runFormValidate, so the form
// paints without it.
import type { RunConfig, RunConfigInput } from '@api/config';
import type { RequestOf } from '@api/contract';
import type { FieldSpec } from '../../../src-main/models/configFields';
import { type BUILTIN_DATASETS, DEFAULT_CONFIG, SWEEP_PARAMS as SWEEP_PARAM_LIST } from './apiConstants';
import { appliesWhenHolds } from './configApplies';
import { MODEL_FIELDS } from './modelFields.generated';

export { DEFAULT_CONFIG };

/** The shared schema and cross-field rules (./runFormValidate's `checkConfig`). */
export type ConfigCheck = (
  input: RunConfigInput,
) => { ok: true; config: RunConfig } | { ok: false; issues: { path: string; message: string }[] };

export type ModelKind = RunConfig['model']['kind'];
export type SweepParam = (typeof SWEEP_PARAM_LIST)[number];
/**
 * A built-in data set, or one imported into the data folder ('dataset:<id>'). No paths: browser
 * mode and the app's window take none (the CLI still does).
 */
export type DatasetChoice = (typeof BUILTIN_DATASETS)[number] | `dataset:${string}`;

export const SWEEP_LABELS: Record<SweepParam, string> = {
  'model.beta': 'beta',
  'model.latentDim': 'latent size',
  'train.seed': 'seed',
  'train.lr': 'learning rate',
};

/** Everything the form holds, as typed (numbers stay text until submit). */
export interface RunFormValues {
  kind: ModelKind;
  datasetChoice: DatasetChoice;
  trainSize: string;
  testSize: string;
  epochs: string;
  batchSize: string;
  lr: string;
  /** The networks every model has (the form places these itself). */
  hidden: string;
  likelihood: RunConfig['model']['likelihood'];
  /**
   * The model kinds' own fields (models/<kind>/config.ts, drawn from MODEL_FIELDS), as typed, by
   * key; an object field's inner fields as 'capacity.gamma', and its switch as 'capacity' ('on' or '').
   */
  model: Record<string, string>;
  /** The model fields typed in by hand (by key): a change of kind keeps these and resets the others. */
  modelEdited: Record<string, true>;
  klSchedule: RunConfig['train']['klSchedule'];
  warmupSteps: string;
  cycles: string;
  cycleRatio: string;
  seed: string;
  architecture: RunConfig['model']['architecture'];
  activation: RunConfig['model']['activation'];
  binarization: RunConfig['data']['binarization'];
  objective: RunConfig['train']['objective'];
  backend: RunConfig['train']['backend'];
  experiment: string;
  name: string;
  tags: string;
  sweepParam: SweepParam | '';
  sweepValues: string;
  /** A second swept parameter (a grid: every combination with the first). */
  sweepParam2: SweepParam | '';
  sweepValues2: string;
  /** Seeds every combination is repeated with (train.seed as one more grid axis). */
  sweepSeeds: string;
}

export function defaultFormValues(): RunFormValues {
  const d = DEFAULT_CONFIG;
  return {
    kind: d.model.kind,
    datasetChoice: 'mnist',
    trainSize: String(d.data.trainSize),
    testSize: String(d.data.testSize),
    epochs: String(d.train.epochs),
    batchSize: String(d.train.batchSize),
    lr: String(d.train.lr),
    hidden: d.model.hidden.join(', '),
    likelihood: d.model.likelihood,
    model: ownFieldDefaults(d.model.kind, {}),
    modelEdited: {},
    klSchedule: d.train.klSchedule,
    warmupSteps: String(d.train.warmupSteps),
    cycles: String(d.train.cycles),
    cycleRatio: String(d.train.cycleRatio),
    seed: String(d.train.seed),
    architecture: d.model.architecture,
    activation: d.model.activation,
    binarization: d.data.binarization,
    objective: d.train.objective,
    backend: d.train.backend,
    experiment: '',
    name: '',
    tags: '',
    sweepParam: '',
    sweepValues: '',
    sweepParam2: '',
    sweepValues2: '',
    sweepSeeds: '',
  };
}

/** A field's start value (its schema default, or its meta.formStart) as the form shows it. */
function fieldText(spec: FieldSpec, value: unknown = spec.formStart ?? spec.default): string {
  if (spec.type === 'object') return value ? 'on' : '';
  if (Array.isArray(value)) return value.join(', ');
  return value === null || value === undefined ? '' : String(value);
}

/** A kind's own (non-network) fields. */
export function ownFields(kind: ModelKind): FieldSpec[] {
  return MODEL_FIELDS[kind].fields.filter((f) => !f.network);
}

/**
 * `current` with the kind's own fields filled where missing: each at its default (an object field's
 * inner fields at theirs, under 'key.inner').
 */
function ownFieldDefaults(kind: ModelKind, current: Record<string, string>): Record<string, string> {
  const out = { ...current };
  for (const spec of ownFields(kind)) {
    out[spec.key] ??= fieldText(spec);
    for (const inner of spec.fields ?? []) out[`${spec.key}.${inner.key}`] ??= fieldText(inner);
  }
  return out;
}

/**
 * The form after picking another model kind: a field both kinds have keeps what was typed into it;
 * every other field takes the new kind's start value (beta 4 for a beta-VAE, 1 for a ladder).
 */
export function withKind(v: RunFormValues, kind: ModelKind): RunFormValues {
  const model = { ...v.model };
  for (const spec of ownFields(kind)) {
    if (v.modelEdited[spec.key]) continue;
    model[spec.key] = fieldText(spec);
    for (const inner of spec.fields ?? [])
      if (!v.modelEdited[`${spec.key}.${inner.key}`]) model[`${spec.key}.${inner.key}`] = fieldText(inner);
  }
  const sweepable = sweepParamsFor(kind);
  const keep = (p: SweepParam | '') => (p === '' || sweepable.includes(p) ? p : '');
  return { ...v, kind, model, sweepParam: keep(v.sweepParam), sweepParam2: keep(v.sweepParam2) };
}

/** A field's `appliesWhen` against the form: e.g. flow steps only for a planar or IAF posterior. */
function applies(spec: FieldSpec, v: RunFormValues): boolean {
  return appliesWhenHolds(spec.appliesWhen, (key) => (key === 'likelihood' ? v.likelihood : v.model[key]));
}

/** The chosen kind's own fields the form shows now, in schema order. */
export function shownModelFields(v: RunFormValues): FieldSpec[] {
  return ownFields(v.kind).filter((spec) => applies(spec, v));
}

/** The sweep parameters a kind can vary: its own model fields among SWEEP_PARAMS, and the train ones. */
export function sweepParamsFor(kind: ModelKind): SweepParam[] {
  const own = new Set(ownFields(kind).map((f) => `model.${f.key}`));
  return SWEEP_PARAM_LIST.filter((p) => !p.startsWith('model.') || own.has(p));
}

/** Every model field of every kind, as form fields ('model.beta', 'model.capacity.cMax'). */
const MODEL_FORM_FIELDS = [
  ...new Set(
    Object.values(MODEL_FIELDS).flatMap((kind) =>
      kind.fields.flatMap((f) => [`model.${f.key}`, ...(f.fields ?? []).map((g) => `model.${f.key}.${g.key}`)]),
    ),
  ),
] as `model.${string}`[];

/** Field keys the form shows messages beside: config dot paths, plus the request-level fields. */
const STATIC_FORM_FIELDS = [
  'model.kind',
  'data.dataset',
  'data.trainSize',
  'data.testSize',
  'data.binarization',
  'train.epochs',
  'train.batchSize',
  'train.lr',
  'train.seed',
  'train.objective',
  'train.klSchedule',
  'train.warmupSteps',
  'train.cycles',
  'train.cycleRatio',
  'train.backend',
  'experiment',
  'name',
  'tags',
  'sweep.param',
  'sweep.values',
  'sweep.param2',
  'sweep.values2',
  'sweep.seeds',
] as const;
export type FormField = (typeof STATIC_FORM_FIELDS)[number] | `model.${string}`;
export const FORM_FIELDS: readonly FormField[] = [...STATIC_FORM_FIELDS, ...MODEL_FORM_FIELDS];
export type FieldErrors = Partial<Record<FormField | 'form', string>>;

/**
 * The form field a message belongs to: 'config.model.hidden.1' -> 'model.hidden';
 * request fields of createSweep ('values', 'param') map to the sweep fields; anything else -> 'form'.
 */
export function fieldOf(path: string | undefined): FormField | 'form' {
  if (!path) return 'form';
  let p = path.replace(/^config\./, '');
  if (p === 'values' || p.startsWith('values.')) return 'sweep.values';
  if (p === 'param') return 'sweep.param';
  if (p === 'grid' || p.startsWith('grid.')) return 'sweep.values';
  while (p) {
    if ((FORM_FIELDS as readonly string[]).includes(p)) return p as FormField;
    const cut = p.lastIndexOf('.');
    if (cut === -1) break;
    p = p.slice(0, cut);
  }
  return 'form';
}

function parseNumber(text: string, field: FormField, errors: FieldErrors): number | undefined {
  const t = text.trim();
  if (t === '') return undefined; // left empty: the default applies
  const n = Number(t);
  if (!Number.isFinite(n)) {
    errors[field] = `Enter a number (got “${t}”)`;
    return undefined;
  }
  return n;
}

function parseList(text: string, field: FormField, errors: FieldErrors): number[] | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const parts = t.split(/[\s,]+/).filter(Boolean);
  const values = parts.map(Number);
  if (values.some((v) => !Number.isFinite(v))) {
    errors[field] = 'Enter numbers separated by commas, e.g. 400, 200';
    return undefined;
  }
  return values;
}

/** Builds the config input from the form; fields hidden for the chosen options are left out. */
export function toConfigInput(v: RunFormValues, errors: FieldErrors): RunConfigInput {
  const dataset = v.datasetChoice;
  const model: Record<string, unknown> = {
    kind: v.kind,
    architecture: v.architecture,
    activation: v.activation,
    likelihood: v.likelihood,
    hidden: parseList(v.hidden, 'model.hidden', errors),
  };
  // The kind's own fields, from its schema: each parsed as its type.
  const parse = (spec: FieldSpec, key: string): unknown => {
    const text = v.model[key] ?? '';
    const field: FormField = `model.${key}`;
    if (spec.type === 'integer' || spec.type === 'number') return parseNumber(text, field, errors);
    if (spec.type === 'integer-list') return parseList(text, field, errors);
    if (spec.type === 'boolean') return text === 'true';
    return text || undefined;
  };
  for (const spec of shownModelFields(v)) {
    if (spec.type !== 'object') model[spec.key] = parse(spec, spec.key);
    else if (v.model[spec.key] === 'on')
      model[spec.key] = dropUndefined(
        Object.fromEntries((spec.fields ?? []).map((inner) => [inner.key, parse(inner, `${spec.key}.${inner.key}`)])),
      );
  }
  const train: NonNullable<RunConfigInput['train']> = {
    epochs: parseNumber(v.epochs, 'train.epochs', errors),
    batchSize: parseNumber(v.batchSize, 'train.batchSize', errors),
    lr: parseNumber(v.lr, 'train.lr', errors),
    seed: parseNumber(v.seed, 'train.seed', errors),
    objective: v.objective,
    klSchedule: v.klSchedule,
    backend: v.backend,
  };
  if (v.klSchedule === 'linear') train.warmupSteps = parseNumber(v.warmupSteps, 'train.warmupSteps', errors);
  if (v.klSchedule === 'cyclical') {
    train.cycles = parseNumber(v.cycles, 'train.cycles', errors);
    train.cycleRatio = parseNumber(v.cycleRatio, 'train.cycleRatio', errors);
  }
  return {
    model: dropUndefined(model) as RunConfigInput['model'],
    data: dropUndefined({
      dataset: dataset || undefined,
      trainSize: parseNumber(v.trainSize, 'data.trainSize', errors),
      testSize: parseNumber(v.testSize, 'data.testSize', errors),
      binarization: v.binarization,
    }),
    train: dropUndefined(train),
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}

/** Validates with the shared schema; messages keyed by form field. */
export function validateConfig(input: RunConfigInput, errors: FieldErrors, check: ConfigCheck): RunConfig | null {
  const checked = check(input);
  if (checked.ok) return checked.config;
  for (const issue of checked.issues) {
    const field = fieldOf(issue.path);
    errors[field] ??= field === 'form' ? `${issue.path}: ${issue.message}` : issue.message;
  }
  return null;
}

export type FormRequest =
  | { kind: 'run'; request: RequestOf<'createRun'> }
  | { kind: 'sweep'; request: RequestOf<'createGridSweep'>; runs: number };

/** Most runs one grid sweep may start (MAX_GRID_RUNS of the contract). */
export const MAX_SWEEP_RUNS = 256;

function setPaths(config: RunConfig, values: Record<string, number>): RunConfig {
  let out = config;
  for (const [path, value] of Object.entries(values)) {
    const [section, field] = path.split('.') as ['model' | 'train', string];
    out = { ...out, [section]: { ...out[section], [field]: value } };
  }
  return out;
}

/** Every combination of the axes' values, the first axis varying slowest (as the service does). */
function combinations(axes: { param: string; values: number[] }[]): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const axis of axes) out = out.flatMap((c) => [...new Set(axis.values)].map((v) => ({ ...c, [axis.param]: v })));
  return out;
}

/**
 * The whole form -> a createRun or createSweep request, or the messages to show. Without `check`
 * (the schema not loaded yet) only the form's own rules run and the result is never ok.
 */
export function buildRequest(
  v: RunFormValues,
  check?: ConfigCheck,
): { ok: true; value: FormRequest } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const input = toConfigInput(v, errors);
  // A text field that did not parse already holds its message; the schema's comes second (??=).
  const config = check ? validateConfig(input, errors, check) : null;
  const experiment = v.experiment.trim();
  const name = v.name.trim();
  const tags = [
    ...new Set(
      v.tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  if (experiment.length > 200) errors.experiment = 'At most 200 characters';
  if (name.length > 200) errors.name = 'At most 200 characters';
  if (tags.some((t) => t.length > 64)) errors.tags = 'Each tag at most 64 characters';
  if (tags.length > 32) errors.tags = 'At most 32 tags';

  if (v.sweepParam) {
    const axes: { param: SweepParam; values: number[] }[] = [];
    const axis = (param: SweepParam | '', text: string, field: FormField, example: string) => {
      if (!param) return;
      const values = parseList(text, field, errors);
      if (!errors[field] && (!values || values.length === 0))
        errors[field] = `List the values to sweep, e.g. ${example}`;
      if (values && values.length > 64) errors[field] = 'At most 64 values per parameter';
      if (values && !errors[field]) axes.push({ param, values });
    };
    axis(v.sweepParam, v.sweepValues, 'sweep.values', '1, 4, 16');
    if (v.sweepParam2 && v.sweepParam2 === v.sweepParam) errors['sweep.param2'] = 'Pick a different parameter';
    else axis(v.sweepParam2, v.sweepValues2, 'sweep.values2', '1, 4, 16');
    const seedSwept = v.sweepParam === 'train.seed' || v.sweepParam2 === 'train.seed';
    if (!seedSwept && v.sweepSeeds.trim() !== '') axis('train.seed', v.sweepSeeds, 'sweep.seeds', '0, 1, 2');
    if (!experiment) errors.experiment = 'A sweep needs an experiment name to group its runs';
    const betaSwept = v.sweepParam === 'model.beta' || v.sweepParam2 === 'model.beta';
    if (betaSwept && v.kind === 'vae') {
      const field = v.sweepParam === 'model.beta' ? 'sweep.param' : 'sweep.param2';
      errors[field] = "Sweeping beta needs model kind 'beta-vae' (a plain VAE has beta = 1)";
    }
    const combos = combinations(axes);
    if (combos.length > MAX_SWEEP_RUNS)
      errors['sweep.values'] = `${combos.length} runs: at most ${MAX_SWEEP_RUNS} in one sweep`;
    const sweepFields: FormField[] = ['sweep.param', 'sweep.values', 'sweep.param2', 'sweep.values2', 'sweep.seeds'];
    if (config && check && !sweepFields.some((f) => errors[f])) {
      for (const combo of combos) {
        const one: FieldErrors = {};
        validateConfig(setPaths(config, combo), one, check);
        const message = Object.values(one)[0];
        if (message) {
          const label = Object.entries(combo)
            .map(([p, x]) => (axes.length > 1 ? `${p}=${x}` : String(x)))
            .join(' ');
          errors['sweep.values'] = `${label}: ${message}`;
          break;
        }
      }
    }
    if (Object.keys(errors).length > 0 || !config) return { ok: false, errors };
    const request: RequestOf<'createGridSweep'> = { config, experiment, grid: axes };
    if (tags.length > 0) request.tags = tags;
    return { ok: true, value: { kind: 'sweep', request, runs: combos.length } };
  }

  if (Object.keys(errors).length > 0 || !config) return { ok: false, errors };
  const request: RequestOf<'createRun'> = { config };
  if (experiment) request.experiment = experiment;
  if (name) request.name = name;
  if (tags.length > 0) request.tags = tags;
  return { ok: true, value: { kind: 'run', request } };
}
