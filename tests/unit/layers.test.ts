// The layering of ../shared/ARCHITECTURE.md, held by a test so nobody has to remember it:
// lower layers never import higher ones; only the store imports better-sqlite3; only the Electron
// shell imports electron; the renderer imports no Node code; the data layer has no tfjs.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const LAYERS = ['api', 'models', 'data', 'training', 'store', 'workbench', 'server', 'cli', 'electron'] as const;
type Layer = (typeof LAYERS)[number];

/** What each layer of src-main may import from its siblings. */
const ALLOWED: Record<Layer, Layer[]> = {
  api: [],
  models: ['api'],
  data: ['api'],
  training: ['api', 'models', 'data'],
  store: ['api'],
  workbench: ['api', 'training', 'store'],
  server: ['api', 'workbench'],
  cli: ['api', 'workbench', 'server'],
  electron: ['api', 'workbench'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|mts|mjs|svelte)$/.test(name) ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1] ?? m[2],
  );
}

describe('architecture layers', () => {
  for (const layer of LAYERS) {
    it(`src-main/${layer} imports only ${ALLOWED[layer].join(', ') || 'nothing else in src-main'}`, () => {
      const violations: string[] = [];
      for (const file of files(join(ROOT, 'src-main', layer))) {
        for (const spec of imports(file)) {
          // The layer an import lands in, wherever in the tree the importing file sits.
          const target = spec.startsWith('.')
            ? relative(join(ROOT, 'src-main'), resolve(dirname(file), spec)).split(sep)[0]
            : undefined;
          const sibling = LAYERS.includes(target as Layer) ? (target as Layer) : undefined;
          if (sibling && sibling !== layer && !ALLOWED[layer].includes(sibling))
            violations.push(`${relative(ROOT, file)} -> ${spec}`);
          if (spec === 'better-sqlite3' && layer !== 'store')
            violations.push(`${relative(ROOT, file)} imports better-sqlite3`);
          if (spec === 'electron' && layer !== 'electron') violations.push(`${relative(ROOT, file)} imports electron`);
          if (
            spec.startsWith('@tensorflow/') &&
            ['data', 'store', 'api', 'server', 'cli', 'electron'].includes(layer)
          ) {
            violations.push(`${relative(ROOT, file)} imports ${spec}`);
          }
          if (layer === 'api' && !spec.startsWith('./') && spec !== 'zod')
            violations.push(`${relative(ROOT, file)} -> ${spec} (api is plain TS + zod)`);
        }
      }
      expect(violations).toEqual([]);
    });
  }

  it('src-main/api/constants.ts imports nothing (the renderer loads it at start-up, without zod)', () => {
    expect(imports(join(ROOT, 'src-main', 'api', 'constants.ts'))).toEqual([]);
  });

  it('the renderer imports only the api contract (and zod, its schema library), svelte, chart.js, umap-js and its own files', () => {
    const violations: string[] = [];
    for (const file of files(join(ROOT, 'src-renderer'))) {
      for (const spec of imports(file)) {
        const ok =
          spec.startsWith('.') ||
          spec.startsWith('@api/') ||
          spec === 'svelte' ||
          spec.startsWith('svelte/') ||
          spec.startsWith('chart.js') ||
          spec === 'umap-js' ||
          spec === 'zod';
        if (!ok) violations.push(`${relative(ROOT, file)} -> ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
