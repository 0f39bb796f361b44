// Three test projects, run in this order by scripts/test.mjs:
//   unit        Node environment: models, data, training, store, workbench, server, CLI
//   components  jsdom + Svelte: renderer stores and components
//   e2e         Node driving Debian's chromium (playwright-core) against browser mode
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const apiDir = fileURLToPath(new URL('./src-main/api', import.meta.url));

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias: { '@api': apiDir } },
        test: {
          name: 'unit',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        plugins: [svelte()],
        resolve: { alias: { '@api': apiDir }, conditions: ['browser'] },
        test: {
          name: 'components',
          environment: 'jsdom',
          include: ['tests/components/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
