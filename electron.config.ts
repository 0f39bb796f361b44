// electron-vite build config: one folder per process, one config.
//   main      src-main  -> out/main   (Electron main, the CLI and browser-mode server, the training worker)
//   preload   src-main/electron/preload.ts -> out/preload/index.cjs (CommonJS: sandboxed preloads cannot be ESM)
//   renderer  src-renderer -> out/renderer (a plain Vite + Svelte app)
// Node-side dependencies stay external (electron-vite's default), so tfjs finds its .wasm files
// and better-sqlite3 its native addon at run time.
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rollupOptions: {
        input: {
          index: resolve(root, 'src-main/electron/main.ts'),
          cli: resolve(root, 'src-main/cli/index.ts'),
          worker: resolve(root, 'src-main/training/worker.ts'),
          bundleWorker: resolve(root, 'src-main/workbench/exchange/bundleWorker.ts'),
          storeWorker: resolve(root, 'src-main/workbench/storeWorker.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rollupOptions: {
        input: { index: resolve(root, 'src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    resolve: { alias: { '@api': resolve(root, 'src-main/api') } },
    plugins: [svelte()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // electron-vite leaves the renderer unminified; minified code parses faster at start-up.
      minify: true,
      rollupOptions: { input: resolve(root, 'src-renderer/index.html') },
    },
  },
});
