import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts `src-main/workers/<name>.worker.ts`. From source (tsx, vitest) the worker needs tsx's loader;
 * in the electron-vite bundle the worker is its own entry, `out/main/workers/<name>.worker.js`, and this file is
 * always the chunk `out/main/chunks/start-worker-<hash>.js` (electron.vite.config.ts says so).
 */
export function startWorker(name: string, options: WorkerOptions = {}): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(new URL(`../workers/${name}.worker.js`, import.meta.url), options);
  // Node 20 does not apply loader hooks given as `--import` in a worker's execArgv ("Unknown file extension .ts"),
  // so the worker registers tsx itself before importing its entry.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = new URL(`../workers/${name}.worker.ts`, import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * Starts the same entry as a child Node process, its standard streams piped to this one and `process.send` for
 * its answer: native code writes its logs to file descriptor 2, which only a process of its own can catch. Only
 * where this process is Node (the CLI, `tsuzuki serve`, tests): the packaged Electron app cannot run as Node.
 */
export function forkWorker(name: string, args: string[]): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`../workers/${name}.worker.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const execArgv = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  return fork(entry, args, { execArgv, silent: true });
}
