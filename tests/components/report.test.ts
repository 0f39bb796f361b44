import { describe, expect, it } from 'vitest';
import { buildReportHtml, cleanSvg, escapeHtml } from '../../src-renderer/src/lib/report';
import { makeRun } from './fakeTransport';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('export report', () => {
  const a = makeRun({ id: 'ra', name: 'sweep <b>=1', final: { 'test/elbo': -261.36, 'test/iwae': -258.5 } });
  const b = makeRun({
    id: 'rb',
    name: 'sweep b=4',
    configInput: { model: { kind: 'beta-vae', beta: 4 } },
    final: { 'test/elbo': -300.25 },
  });
  const html = buildReportHtml({
    title: 'Report',
    createdAt: 1_700_000_000_000,
    appVersion: '0.1.0',
    runs: [
      {
        run: a,
        label: a.name,
        color: '#1f77b4',
        notes: 'first <note>',
        grids: [{ kind: 'samples', epoch: 2, dataUrl: PNG }],
      },
      {
        run: b,
        label: b.name,
        color: '#ff7f0e',
        notes: '',
        grids: [{ kind: 'samples', epoch: 2, dataUrl: 'http://x/y.png' }],
      },
    ],
    figures: [
      {
        title: 'gap',
        svg: '<svg onload="alert(1)"><script>x()</script><image href="http://evil/x.png"/><path d="M0,0"/></svg>',
      },
      { title: 'panel', png: PNG },
      { title: 'remote', png: 'https://example.com/chart.png' },
    ],
  });

  it('holds every run name (escaped), its final ELBO and the figures table', () => {
    expect(html).toContain('sweep &lt;b&gt;=1');
    expect(html).not.toContain('sweep <b>=1');
    expect(html).toContain('data-value="-261.36"');
    expect(html).toContain('data-value="-300.25"');
    expect(html).toContain('<th>test/elbo</th><th>test/iwae</th><th>IWAE − ELBO</th>');
    expect(html).toContain('>2.86<'); // -258.5 - (-261.36)
    expect(html).toContain('first &lt;note&gt;');
  });

  it('lists only the config keys that differ', () => {
    const rows = [...html.matchAll(/<tr><td>([\w.]+)<\/td>/g)].map((m) => m[1]);
    expect(rows).toEqual(['model.beta', 'model.kind']);
  });

  it('refers to nothing outside the file: no remote images, scripts or handlers', () => {
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(html).not.toMatch(/<script|onload=/i);
    expect(html.match(/<img /g)).toHaveLength(2); // the panel PNG and run a's grid
    expect(html).toContain("default-src 'none'");
    expect(cleanSvg('<svg><use xlink:href="#a"/></svg>')).toBe('<svg><use xlink:href="#a"/></svg>');
    expect(escapeHtml(`"'&`)).toBe('&quot;&#39;&amp;');
  });
});
