// The layering of the README's architecture section as one ESLint rule, in the manner of VS Code's
// `code-import-patterns`: every import (static, `export ... from`, dynamic `import()`, `require()` and
// `createRequire(...)(...)` with a string) is resolved to the file it names and checked against the
// table below, so side-effect imports and relative paths of any depth are held too.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/** What each layer of src-main may import from its sibling layers. Lower layers never import higher ones. */
export const LAYERS = {
  // The run config's model part is one schema per model kind, kept in the model's folder
  // (models/<kind>/config.ts, models/config*.ts: MODEL_CONFIG_FILE below); those files are their own
  // layer, plain zod like api, which api/config.ts assembles into the run config. They take only
  // api/constants.ts at run time (types from anywhere in api), so the two never form a cycle.
  api: ['modelConfig'],
  modelConfig: ['api'],
  models: ['api', 'modelConfig'],
  data: ['api'],
  training: ['api', 'modelConfig', 'models', 'data'],
  store: ['api'],
  workbench: ['api', 'modelConfig', 'data', 'training', 'store'],
  // Remote workers over BullMQ/Redis (issue #18): jobs out, events back into the workbench's ingest.
  queue: ['api', 'training', 'store', 'workbench'],
  // The shells read files through the data layer's bounded readers (size caps, regular files only).
  server: ['api', 'data', 'workbench'],
  cli: ['api', 'modelConfig', 'data', 'workbench', 'server', 'queue'],
  electron: ['api', 'workbench'],
};

/** Packages only one layer may import. */
const OWNED_PACKAGES = { 'better-sqlite3': 'store', electron: 'electron' };

/** The file a relative specifier names, as TypeScript's bundler resolution finds it. */
function resolveFile(base) {
  for (const candidate of [base, `${base}.ts`, `${base}.mts`, `${base}.js`, `${base}.mjs`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const STATIC_VALUE_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const loadsTfjsCache = new Map();

/** Whether loading this module (its static value imports, transitively) loads tfjs. */
function loadsTfjs(file, seen = new Set()) {
  if (loadsTfjsCache.has(file)) return loadsTfjsCache.get(file);
  if (seen.has(file)) return false;
  seen.add(file);
  let result = false;
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC_VALUE_IMPORT)) {
    if (spec.startsWith('@tensorflow/')) result = true;
    else if (spec.startsWith('.')) {
      const target = resolveFile(resolve(dirname(file), spec));
      if (target && loadsTfjs(target, seen)) result = true;
    }
    if (result) break;
  }
  loadsTfjsCache.set(file, result);
  return result;
}

function packageName(spec) {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The models' config schemas: models/config*.ts and models/<kind>/config.ts. */
const MODEL_CONFIG_FILE = /^models\/(config\w*\.ts|[\w-]+\/config\.ts)$/;

/** Where a file sits: { area: 'src-main' | 'src-renderer' | other, layer, path inside src-main }. */
function place(file) {
  const rel = relative(ROOT, file).split(sep).join('/');
  if (rel.startsWith('src-main/')) {
    let inner = rel.slice('src-main/'.length);
    // A specifier without its extension ('../models/configs') names the .ts file.
    if (!inner.endsWith('.ts') && MODEL_CONFIG_FILE.test(`${inner}.ts`)) inner = `${inner}.ts`;
    const layer = MODEL_CONFIG_FILE.test(inner) ? 'modelConfig' : inner.split('/')[0];
    return { area: 'src-main', layer, inner };
  }
  if (rel.startsWith('src-renderer/')) return { area: 'src-renderer', inner: rel };
  return { area: 'other', inner: rel };
}

/** Modules of these layers run on the main thread (models and training run in worker threads). */
function isMainThread(where) {
  return where.area === 'src-main' && where.layer !== 'models' && where.layer !== 'training';
}

function check(context, node, spec, { typeOnly = false } = {}) {
  if (typeof spec !== 'string') return;
  const file = context.filename;
  const here = place(file);
  const report = (message) => context.report({ node, message: `${message} (README: Architecture)` });

  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('@api')) {
    const target = spec.startsWith('@api')
      ? join(ROOT, 'src-main', 'api', spec.slice('@api'.length))
      : resolve(dirname(file), spec);
    const there = place(target);
    if (here.area === 'src-renderer' && there.area === 'src-main' && there.layer !== 'api') {
      if (!(there.layer === 'modelConfig' && typeOnly))
        report(
          `src-renderer may import only src-main/api from src-main (and models' config types), not ${there.inner}`,
        );
    }
    if (here.area === 'src-main' && there.area === 'src-renderer') report('src-main never imports src-renderer');
    if (here.area === 'src-main' && there.area === 'src-main' && there.layer !== here.layer) {
      const allowed = LAYERS[here.layer];
      if (allowed && LAYERS[there.layer] && !allowed.includes(there.layer)) {
        report(
          `src-main/${here.layer} may import ${allowed.join(', ') || 'no other layer'}, not src-main/${there.layer}`,
        );
      }
      if (
        here.layer === 'modelConfig' &&
        there.layer === 'api' &&
        !typeOnly &&
        !/^api\/constants(\.ts)?$/.test(there.inner)
      )
        report(`src-main/${here.inner} may import only api/constants at run time (types from api), not ${there.inner}`);
      const targetFile = !typeOnly && node.type !== 'ImportExpression' && isMainThread(here) && resolveFile(target);
      if (targetFile && loadsTfjs(targetFile)) {
        report(
          `main-thread module imports ${there.inner}, which loads tfjs; use it in a worker, or import() it on demand`,
        );
      }
    }
    return;
  }

  const pkg = packageName(spec);
  const owner = OWNED_PACKAGES[pkg];
  if (owner && !(here.area === 'src-main' && here.layer === owner)) {
    if (here.area === 'src-main' || here.area === 'src-renderer') report(`only src-main/${owner} imports ${pkg}`);
  }
  if (pkg.startsWith('@tensorflow/') && !typeOnly && (isMainThread(here) || here.area === 'src-renderer')) {
    report(`${here.inner} runs on the main thread and must not import ${pkg} (training runs in worker threads)`);
  }
  if (here.area === 'src-renderer' && (pkg.startsWith('node:') || pkg === 'better-sqlite3' || pkg === 'electron')) {
    report(`the renderer runs in a browser sandbox and cannot import ${pkg}`);
  }
  if (here.area === 'src-main' && (here.layer === 'api' || here.layer === 'modelConfig') && pkg !== 'zod') {
    report(`src-main/${here.inner} is plain TypeScript plus zod (the renderer loads it), not ${pkg}`);
  }
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'hold the architecture layers of the README' },
    schema: [],
  },
  create(context) {
    const stringArg = (call) =>
      call.arguments[0]?.type === 'Literal' && typeof call.arguments[0].value === 'string'
        ? call.arguments[0].value
        : undefined;
    return {
      ImportDeclaration(node) {
        const typeOnly =
          node.importKind === 'type' ||
          (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
        check(context, node, node.source.value, { typeOnly });
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(context, node, node.source.value, { typeOnly: node.exportKind === 'type' });
      },
      ExportAllDeclaration(node) {
        check(context, node, node.source.value, { typeOnly: node.exportKind === 'type' });
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(context, node, node.source.value);
      },
      // TS `typeof import('...')` and `import('...').X` in types
      TSImportType(node) {
        const value = node.argument?.literal?.value ?? node.argument?.value;
        check(context, node, value, { typeOnly: true });
      },
      CallExpression(node) {
        // require('x') and createRequire(import.meta.url)('x')
        const callee = node.callee;
        const isRequire =
          (callee.type === 'Identifier' && callee.name === 'require') ||
          (callee.type === 'CallExpression' &&
            callee.callee.type === 'Identifier' &&
            callee.callee.name === 'createRequire');
        if (isRequire) check(context, node, stringArg(node));
        // const require = createRequire(...); require.resolve('x')
        if (
          callee.type === 'MemberExpression' &&
          callee.object.type === 'Identifier' &&
          callee.object.name === 'require' &&
          callee.property.type === 'Identifier' &&
          callee.property.name === 'resolve'
        ) {
          check(context, node, stringArg(node));
        }
      },
    };
  },
};

export default { rules: { 'allowed-imports': rule } };
