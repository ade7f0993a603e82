import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts `src-main/workers/<name>.worker.ts`. From source (tsx, vitest) the worker needs tsx's loader;
 * in the electron-vite bundle the worker is its own entry, `out/main/workers/<name>.worker.js`.
 */
export function startWorker(name: string, options: WorkerOptions = {}): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(new URL(`./workers/${name}.worker.js`, import.meta.url), options);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  return new Worker(new URL(`../workers/${name}.worker.ts`, import.meta.url), {
    ...options,
    execArgv: [...(options.execArgv ?? process.execArgv), '--import', tsx],
  });
}
