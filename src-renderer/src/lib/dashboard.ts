// The dashboard's pure logic: which metrics can share a chart (by unit), how per-dimension and
// per-layer metrics are grouped, the metric search, the default layout per model kind, and the
// automatic smoothing by point count. No Svelte, no DOM.

/** What a metric is measured in; only metrics of one unit share a chart's y axis. */
export type MetricUnit = 'nats' | 'count' | 'rate' | 'weight' | 'norm' | 'other';

/** The unit of a metric name such as 'test/elbo' or 'train/kl_dim/03'. */
export function metricUnit(name: string): MetricUnit {
  const leaf = name.split('/')[1] ?? name;
  if (/^(loss|elbo|iwae|recon|kl|kl_dim|kl_layer|capacity|gap|tc|log_det|mi|dwkl)$/.test(leaf)) return 'nats';
  if (/^(active_units|perplexity|iwae_k|mig)$/.test(leaf)) return 'count';
  if (/^samples_per_sec$/.test(leaf)) return 'rate';
  if (/^(kl_weight|lr)$/.test(leaf)) return 'weight';
  if (/^grad_norm$/.test(leaf)) return 'norm';
  return 'other';
}

export function sameUnit(metrics: readonly string[], candidate: string): boolean {
  return metrics.length === 0 || metricUnit(metrics[0]) === metricUnit(candidate);
}

/** One entry of the metric picker: a single metric, or a family of per-dimension/per-layer ones. */
export type MetricEntry = { kind: 'metric'; name: string } | { kind: 'family'; prefix: string; members: string[] };

/** 'test/kl_dim/07' -> 'test/kl_dim'; a name without an indexed last part -> null. */
export function familyOf(name: string): string | null {
  const match = /^(.+)\/\d+$/.exec(name);
  return match && match[1].includes('/') ? match[1] : null;
}

/**
 * The metric names as the picker lists them: families (x/kl_dim/NN, x/kl_layer/N,
 * x/active_units/N) as one entry each, never flat; order as given otherwise. Searching matches
 * every word of the query against the name (a family matches by its prefix or any member).
 */
export function groupMetrics(names: readonly string[], query = ''): MetricEntry[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (n: string) => words.every((w) => n.toLowerCase().includes(w));
  const out: MetricEntry[] = [];
  const families = new Map<string, { kind: 'family'; prefix: string; members: string[] }>();
  for (const name of names) {
    const prefix = familyOf(name);
    if (prefix === null) {
      if (matches(name)) out.push({ kind: 'metric', name });
      continue;
    }
    let family = families.get(prefix);
    if (!family) {
      family = { kind: 'family', prefix, members: [] };
      families.set(prefix, family);
      out.push(family);
    }
    family.members.push(name);
  }
  return out.filter((e) => e.kind === 'metric' || matches(e.prefix) || e.members.some(matches));
}

export interface PanelConfig {
  /** Stable within a layout; used as the key of the panel's component. */
  id: string;
  title: string;
  metrics: string[];
}

/** The metrics of a model kind's own panel (beyond ELBO, recon and KL), when the runs log them. */
const OWN_METRICS: Record<string, string[]> = {
  vae: ['test/active_units'],
  'beta-vae': ['test/active_units'],
  ladder: ['test/active_units'],
};
/** Metrics other model kinds add (beta-TCVAE's TC): shown when logged. */
const EXTRA_OWN = ['train/log_det', 'test/log_det', 'train/tc', 'test/tc'];

/**
 * The default layout for runs of these model kinds with these logged metrics: ELBO and IWAE,
 * reconstruction, KL (per layer for a ladder), then the model's own (active units, TC, capacity,
 * a flow's mean log-det per step, a VQ-VAE's codebook perplexity and fraction of codes used). A panel is kept only when at least one of its metrics is logged; when
 * nothing is logged yet, the first three are shown so the layout does not jump when points come.
 */
export function defaultPanels(modelKinds: readonly string[], names: readonly string[]): PanelConfig[] {
  const logged = new Set(names);
  const has = (m: string) => logged.has(m);
  const kinds = new Set(modelKinds);
  const panels: PanelConfig[] = [
    {
      id: 'elbo',
      title: 'ELBO and IWAE',
      // A VQ-VAE's bound with its fitted code prior beside the uniform-prior one.
      metrics: ['train/elbo', 'test/elbo', 'test/iwae', ...(kinds.has('vq-vae') ? ['test/elbo_code_prior'] : [])],
    },
    { id: 'recon', title: 'Reconstruction', metrics: ['train/recon', 'test/recon'] },
    { id: 'kl', title: 'KL', metrics: ['train/kl', 'test/kl'] },
  ];
  if (kinds.has('ladder')) {
    const layers = names.filter((n) => n.startsWith('test/kl_layer/'));
    if (layers.length > 0) panels.push({ id: 'kl-layers', title: 'KL per layer (test)', metrics: layers });
  }
  if (kinds.has('beta-vae') && has('train/capacity'))
    panels.push({ id: 'capacity', title: 'KL and capacity C', metrics: ['train/kl', 'train/capacity'] });
  if (kinds.has('vq-vae')) {
    // The codebook's health over training: exp(H(p_bar)) of code use, and the fraction of codes used.
    if (has('test/perplexity'))
      panels.push({ id: 'perplexity', title: 'Codebook perplexity (test)', metrics: ['test/perplexity'] });
    if (has('test/codes_used'))
      panels.push({ id: 'codes-used', title: 'Fraction of codes used (test)', metrics: ['test/codes_used'] });
  }
  const logDets = names.filter((n) => /^test\/flow_logdet\/\d+$/.test(n));
  if (logDets.length > 0)
    panels.push({ id: 'flow-logdet', title: 'Flow mean log-det per step (test)', metrics: logDets });
  const own = new Set<string>();
  for (const kind of kinds) for (const m of OWN_METRICS[kind] ?? []) own.add(m);
  const counts = [...own, ...EXTRA_OWN.filter((m) => metricUnit(m) === 'count')].filter(has);
  if (counts.length > 0) panels.push({ id: 'own', title: 'Active units', metrics: counts });
  const ownNats = EXTRA_OWN.filter((m) => metricUnit(m) === 'nats' && has(m));
  if (ownNats.length > 0) panels.push({ id: 'own-nats', title: 'TC and log-det', metrics: ownNats });
  if (names.length === 0) return panels.slice(0, 3);
  const kept = panels.filter((p) => p.metrics.some(has)).map((p) => ({ ...p, metrics: p.metrics.filter(has) }));
  if (kept.length > 0) return kept;
  // Runs that log none of these (e.g. only a loss): one panel per logged metric, up to four.
  return names.slice(0, 4).map((m) => ({ id: `m:${m}`, title: m, metrics: [m] }));
}

/**
 * Smoothing weight for a series of n points when smoothing is automatic: none below 30 points
 * (an evaluation curve of 3 points must end on its last value), then rising with n so that the
 * EMA window 1/(1-w) spans about 2% of the series (capped at 0.95).
 */
export function autoSmoothing(n: number): number {
  if (n < 30) return 0;
  const window = Math.max(2, n / 50);
  return Math.min(0.95, Number((1 - 1 / window).toFixed(2)));
}

/** Line dash per metric position on a multi-metric panel: the run keeps its colour, the metric its dash. */
export const METRIC_DASHES: number[][] = [[], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]];

/** A metric's short label on a panel: 'test/elbo' -> 'test elbo'. */
export function shortMetric(name: string): string {
  return name.replace(/\//g, ' ');
}
