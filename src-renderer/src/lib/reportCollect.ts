// The DOM side of "Export report": the views as drawn now, turned into self-contained figures.
// SVG views are cloned with the styles their (scoped) CSS gives them written inline, so they look
// the same outside the app; the dashboard's canvases become PNG data URLs.
import type { ReportFigure } from './report';

const SVG_STYLE_PROPS = [
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'opacity',
  'font-size',
  'font-weight',
  'font-family',
];

/** An <svg> element's markup with its computed presentation inlined and its drawn size fixed. */
export function svgWithStyles(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const source = [svg, ...svg.querySelectorAll('*')];
  const target = [clone, ...clone.querySelectorAll('*')];
  source.forEach((el, i) => {
    const computed = getComputedStyle(el);
    const style = SVG_STYLE_PROPS.map((p) => `${p}:${computed.getPropertyValue(p)}`)
      .filter((d) => !d.endsWith(':'))
      .join(';');
    const out = target[i];
    out.removeAttribute('class');
    if (style) out.setAttribute('style', style);
  });
  const box = svg.getBoundingClientRect();
  if (box.width > 0) {
    clone.setAttribute('width', String(Math.round(box.width)));
    clone.setAttribute('height', String(Math.round(box.height)));
  }
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return clone.outerHTML;
}

/** Every drawn view of the page, in page order: dashboard panels (PNG), then the SVG views. */
export function collectFigures(root: ParentNode = document): ReportFigure[] {
  const figures: ReportFigure[] = [];
  for (const panel of root.querySelectorAll<HTMLElement>('[data-testid="dashboard-panel"][data-drawn="true"]')) {
    const canvas = panel.querySelector('canvas');
    const title = panel.querySelector('h3')?.textContent?.trim() ?? 'Panel';
    if (canvas && canvas.width > 0) figures.push({ title, png: canvas.toDataURL('image/png') });
  }
  const svgs: [string, string][] = [
    ['[data-testid="elbo-gap"] svg', 'ELBO gap: test ELBO, IWAE and IWAE − ELBO'],
    ['svg[data-testid="rate-distortion"]', 'Rate–distortion: final test KL against reconstruction'],
    ['svg[data-testid="parallel-coords"]', 'Parallel coordinates'],
  ];
  for (const [selector, title] of svgs) {
    const svg = root.querySelector<SVGSVGElement>(selector);
    if (svg) figures.push({ title, svg: svgWithStyles(svg) });
  }
  for (const svg of root.querySelectorAll<SVGSVGElement>('svg[data-testid="kl-heatmap"]')) {
    const name = svg.closest('.run')?.querySelector('.run-name')?.textContent?.trim() ?? '';
    figures.push({ title: `KL per dimension over training: ${name}`, svg: svgWithStyles(svg) });
  }
  return figures;
}
