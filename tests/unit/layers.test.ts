// The layering of the README's architecture section is held by one lint rule
// (scripts/eslint-layers.mjs, run by `npm run lint` and first in `npm test`). These tests hold the
// rule itself: each deliberate violation below must fail lint, with the message naming the line it
// crosses, and the real tree must pass.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

/** The layer-rule messages ESLint gives for `code` placed at `file`. */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'layers/allowed-imports').map((m) => m.message);
}

describe('architecture layers (lint rule layers/allowed-imports)', () => {
  const violations: [string, string, string, RegExp][] = [
    [
      'better-sqlite3 from training',
      'src-main/training/x.ts',
      "import Database from 'better-sqlite3';\nexport const d = Database;\n",
      /only src-main\/store imports better-sqlite3/,
    ],
    [
      'store from the renderer',
      'src-renderer/src/lib/x.ts',
      "import { openStore } from '../../../src-main/store';\nexport const o = openStore;\n",
      /src-renderer may import only src-main\/api/,
    ],
    [
      'a side-effect import of a higher layer',
      'src-main/models/x.ts',
      "import '../store/db';\n",
      /src-main\/models may import api, modelConfig, not src-main\/store/,
    ],
    [
      'a dynamic import of a higher layer',
      'src-main/data/x.ts',
      "export const w = () => import('../workbench/service');\n",
      /src-main\/data may import api, not src-main\/workbench/,
    ],
    [
      'a createRequire string',
      'src-main/training/x.ts',
      "import { createRequire } from 'node:module';\nexport const e = createRequire(import.meta.url)('electron');\n",
      /only src-main\/electron imports electron/,
    ],
    [
      'require.resolve of a package owned elsewhere',
      'src-main/workbench/x.ts',
      "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const p = require.resolve('better-sqlite3');\n",
      /only src-main\/store imports better-sqlite3/,
    ],
    [
      'tfjs on the main thread',
      'src-main/server/x.ts',
      "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n",
      /runs on the main thread and must not import @tensorflow\/tfjs/,
    ],
    [
      'a training module that loads tfjs, statically, from the main thread',
      'src-main/workbench/x.ts',
      "import { train } from '../training/trainer';\nexport const t = train;\n",
      /main-thread module imports training\/trainer, which loads tfjs/,
    ],
    [
      'Node code in the renderer',
      'src-renderer/src/lib/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      /renderer runs in a browser sandbox and cannot import node:fs/,
    ],
    [
      'a package in api',
      'src-main/api/x.ts',
      "import { encode } from 'fast-png';\nexport const e = encode;\n",
      /src-main\/api\/x.ts is plain TypeScript plus zod/,
    ],
    [
      'a package in a model config schema',
      'src-main/models/vqvae/config.ts',
      "import { encode } from 'fast-png';\nexport const e = encode;\n",
      /src-main\/models\/vqvae\/config.ts is plain TypeScript plus zod/,
    ],
    [
      'a model config schema reaching model code',
      'src-main/models/configs.ts',
      "export { klWeightAt } from './schedules';\n",
      /src-main\/modelConfig may import api, not src-main\/models/,
    ],
    [
      'a model config schema importing api/config at run time (a cycle)',
      'src-main/models/vae/config.ts',
      "import { parseRunConfig } from '../../api/config';\nexport const p = parseRunConfig;\n",
      /may import only api\/constants at run time/,
    ],
    [
      'a value import of a model schema in the renderer',
      'src-renderer/src/lib/x.ts',
      "import { MODEL_CONFIGS } from '../../../src-main/models/configs';\nexport const m = MODEL_CONFIGS;\n",
      /src-renderer may import only src-main\/api/,
    ],
    [
      'a lower layer reaching the shells',
      'src-main/store/x.ts',
      "export { startServer } from '../server/http';\n",
      /src-main\/store may import api, not src-main\/server/,
    ],
  ];

  for (const [what, file, code, message] of violations) {
    it(`refuses ${what}`, async () => {
      const errors = await layerErrors(file, code);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
    });
  }

  it('allows what the table allows: api from the renderer, pool and type-only trainer imports in the workbench, tfjs in training', async () => {
    expect(
      await layerErrors('src-renderer/src/lib/x.ts', "import type { RunSummary } from '@api/contract';\n"),
    ).toEqual([]);
    expect(
      await layerErrors(
        'src-main/workbench/x.ts',
        "import { startJob } from '../training/pool';\nexport const s = startJob;\n",
      ),
    ).toEqual([]);
    expect(
      await layerErrors(
        'src-main/workbench/x.ts',
        "import type { Emit } from '../training/trainer';\nexport type T = Emit;\n",
      ),
    ).toEqual([]);
    expect(
      await layerErrors('src-main/training/x.ts', "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n"),
    ).toEqual([]);
    // The model schemas: api assembles them; the renderer takes their types.
    expect(
      await layerErrors(
        'src-main/api/x.ts',
        "import { ModelConfigSchema } from '../models/configs';\nexport const m = ModelConfigSchema;\n",
      ),
    ).toEqual([]);
    expect(
      await layerErrors(
        'src-renderer/src/lib/x.ts',
        "import type { FieldSpec } from '../../../src-main/models/configFields';\nexport type F = FieldSpec;\n",
      ),
    ).toEqual([]);
  });

  it('the source tree passes the layer rule', async () => {
    const results = await eslint.lintFiles(['src-main', 'src-renderer']);
    const errors = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'layers/allowed-imports')
        .map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(errors).toEqual([]);
  });
});
