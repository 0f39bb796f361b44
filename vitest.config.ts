// Three test projects, run in this order by scripts/test.mjs:
//   unit        Node environment: models, data, training, store, workbench, server, CLI
//   components  jsdom + Svelte: renderer stores and components
//   e2e         Node driving Debian's chromium (playwright-core) against browser mode
//   desktop     the real Electron app under Xvfb (playwright-core's _electron); skips, saying why,
//               without an Electron binary. `npm run test:desktop` runs it alone.
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
      {
        test: {
          name: 'desktop',
          environment: 'node',
          include: ['tests/desktop/**/*.test.ts'],
          testTimeout: 300_000,
          // Compiling better-sqlite3 for Electron on the first run takes a while.
          hookTimeout: 600_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
