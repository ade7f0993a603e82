import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

// Worker threads are entries of their own so that `startWorker(name)` finds out/main/workers/<name>.worker.js.
const workers = Object.fromEntries(
  readdirSync(resolve(root, 'src-main/workers'))
    .filter((f) => f.endsWith('.worker.ts'))
    .map((f) => [`workers/${f.slice(0, -3)}`, resolve(root, 'src-main/workers', f)]),
);

// On a busy machine Rolldown warns that the plugins took most of the build's time (Svelte's compiler does): true,
// and no fault of the build, so `npm test` (whose pretest builds) and `npm start` stay quiet about it.
const checks = { bundlerTimings: false };

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        checks,
        input: { index: resolve(root, 'src-main/app/main.ts'), ...workers },
        output: {
          entryFileNames: '[name].js',
          // `startWorker` finds the workers relative to its own file, so that file must have one known place
          // (out/main/chunks/, beside out/main/workers/) and never be inlined into an entry elsewhere.
          codeSplitting: { groups: [{ name: 'start-worker', test: /src-main[\\/]util[\\/]worker\.ts$/ }] },
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        checks,
        input: { index: resolve(root, 'src-preload/index.ts') },
        // A sandboxed preload must be one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rollupOptions: { checks, input: resolve(root, 'src-renderer/index.html') },
    },
  },
});
