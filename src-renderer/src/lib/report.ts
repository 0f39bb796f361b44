// "Export report": one self-contained HTML file for the selected runs, readable offline and
// shareable as is. Charts come in as SVG markup (styles inlined) or PNG data URLs, sample grids
// as PNG data URLs; nothing in the file refers to anything outside it.
import type { RunSummary } from '@api/contract';
import { configDiff } from './configDiff';
import { formatConfigValue, formatTimestamp, formatValue } from './format';

export interface ReportFigure {
  title: string;
  /** An <svg> element's markup, or a PNG/JPEG data URL. */
  svg?: string;
  png?: string;
}

export interface ReportRun {
  run: RunSummary;
  label: string;
  color: string;
  notes: string;
  /** Data URLs of the newest grids, by kind. */
  grids: { kind: string; epoch: number; dataUrl: string }[];
}

export interface ReportInput {
  title: string;
  createdAt: number;
  appVersion: string | null;
  runs: ReportRun[];
  figures: ReportFigure[];
}

/** The final metrics of the figures table, in this order (those no run has are left out). */
export const REPORT_METRICS = ['test/elbo', 'test/iwae', 'test/recon', 'test/kl', 'test/active_units'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;

/** Only inline images: the report must open offline and must not call home. */
function imageSrc(url: string): string | null {
  return DATA_IMAGE.test(url) ? url : null;
}

/** SVG markup without scripts, event handlers or outside references. */
export function cleanSvg(markup: string): string {
  return markup
    .replace(/<script[\s\S]*?<\/script>/gi, '')
    .replace(/\son\w+="[^"]*"/gi, '')
    .replace(/\s(?:href|xlink:href)="(?!#|data:image\/)[^"]*"/gi, '');
}

const STYLE = `
body { font: 13px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: #1f2430; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 28px 0 8px; border-bottom: 1px solid #dde1e6; padding-bottom: 4px; }
h3 { font-size: 13px; margin: 14px 0 6px; }
.meta { color: #6b7280; font-size: 12px; }
table { border-collapse: collapse; font-size: 12.5px; } th, td { border: 1px solid #dde1e6; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f8f9fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; } figure { margin: 0; } figcaption { font-size: 12px; color: #495057; margin-bottom: 4px; }
figure img { max-width: 520px; border: 1px solid #eceef1; }
.grids { display: flex; flex-wrap: wrap; gap: 12px; }
.grids img { width: 180px; image-rendering: pixelated; border: 1px solid #eceef1; }
.notes { white-space: pre-wrap; background: #f8f9fa; border: 1px solid #eceef1; padding: 6px 8px; border-radius: 4px; }
`;

export function buildReportHtml(input: ReportInput): string {
  const { runs } = input;
  const metrics = REPORT_METRICS.filter((m) => runs.some((r) => r.run.final[m] !== undefined));
  const diff = configDiff(runs.map((r) => r.run.config));
  const e = escapeHtml;
  const name = (r: ReportRun) => `<span class="swatch" style="background:${e(r.color)}"></span>${e(r.label)}`;
  const figures = input.figures
    .map((f) => {
      const body = f.svg ? cleanSvg(f.svg) : f.png && imageSrc(f.png) ? `<img src="${f.png}" alt="${e(f.title)}">` : '';
      return body ? `<figure><figcaption>${e(f.title)}</figcaption>${body}</figure>` : '';
    })
    .join('\n');
  // The gap on the same images: test/gap where the run logs it (IWAE and ELBO on the IWAE subset),
  // else, for older runs, the difference of the two test figures.
  const gap = (r: RunSummary) =>
    r.final['test/gap'] ??
    (r.final['test/iwae'] !== undefined && r.final['test/elbo'] !== undefined
      ? r.final['test/iwae'] - r.final['test/elbo']
      : undefined);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${e(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${e(input.title)}</h1>
<p class="meta">${runs.length} run${runs.length === 1 ? '' : 's'} · written ${e(formatTimestamp(input.createdAt))}${input.appVersion ? ` by VAE Workbench v${e(input.appVersion)}` : ''}. Values in nats per example; ELBO and IWAE<sub>k</sub> are lower bounds on log p(x) (higher is better).</p>

<h2>Figures table</h2>
<table data-testid="report-figures">
<thead><tr><th>Run</th><th>Id</th><th>Status</th><th>Model</th><th>Dataset</th>${metrics.map((m) => `<th>${e(m)}</th>`).join('')}<th>IWAE − ELBO</th></tr></thead>
<tbody>
${runs
  .map(
    (r) =>
      `<tr data-run-id="${e(r.run.id)}"><td>${name(r)}</td><td>${e(r.run.id)}</td><td>${e(r.run.status)}</td><td>${e(r.run.modelKind)}</td><td>${e(r.run.dataset)}</td>${metrics
        .map((m) => {
          const v = r.run.final[m];
          return `<td class="num" data-metric="${e(m)}" data-value="${v ?? ''}" title="${v ?? ''}">${e(formatValue(v))}</td>`;
        })
        .join('')}<td class="num">${e(formatValue(gap(r.run)))}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>

<h2>Config differences</h2>
${
  diff.rows.length === 0
    ? `<p>All ${diff.sameCount} config keys are the same in every run.</p>`
    : `<table data-testid="report-config-diff"><thead><tr><th>Key</th>${runs.map((r) => `<th>${name(r)}</th>`).join('')}</tr></thead><tbody>
${diff.rows.map((row) => `<tr><td>${e(row.key)}</td>${row.values.map((v) => `<td>${e(formatConfigValue(v))}</td>`).join('')}</tr>`).join('\n')}
</tbody></table><p class="meta">${diff.sameCount} other keys are the same in every run.</p>`
}

<h2>Charts</h2>
<div class="figures">
${figures || '<p class="meta">No chart was drawn for these runs.</p>'}
</div>

<h2>Runs</h2>
${runs
  .map(
    (r) => `<section data-testid="report-run" data-run-id="${e(r.run.id)}">
<h3>${name(r)}</h3>
<p class="meta">${e(r.run.id)} · ${e(r.run.experiment ?? 'no experiment')} · ${e(r.run.status)} · step ${r.run.step}${r.run.tags.length ? ` · tags ${e(r.run.tags.join(', '))}` : ''} · final test ELBO <strong data-testid="report-elbo" data-value="${r.run.final['test/elbo'] ?? ''}">${e(formatValue(r.run.final['test/elbo']))}</strong></p>
${r.notes.trim() ? `<div class="notes">${e(r.notes)}</div>` : ''}
<div class="grids">${r.grids
      .map((g) => {
        const src = imageSrc(g.dataUrl);
        return src
          ? `<figure><figcaption>${e(g.kind)}, epoch ${g.epoch + 1}</figcaption><img src="${src}" alt="${e(g.kind)} of ${e(r.label)}"></figure>`
          : '';
      })
      .join('')}</div>
</section>`,
  )
  .join('\n')}
</body>
</html>
`;
}
