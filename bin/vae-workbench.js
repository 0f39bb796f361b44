#!/usr/bin/env node
// The `vae-workbench` command. In a checkout it runs the TypeScript sources through tsx (always
// current); in an installed copy without tsx it runs the built bundle (out/main/cli.js).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src-main/cli/index.ts', import.meta.url));
const built = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));

let tsx = null;
if (existsSync(source)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    tsx = null;
  }
}
if (tsx) {
  tsx.register();
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  console.error(
    'vae-workbench: neither the sources with tsx nor the built CLI (out/main/cli.js) were found; run `npm install` then `npm run build`.',
  );
  process.exit(1);
}
