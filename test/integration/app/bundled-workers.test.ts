// The built app (out/main, made by `npm test`'s pretest build) starts its worker threads from Vite's chunks, not from
// the sources the other tests run: a worker path that only works from source breaks hashing, conversion, generation
// and the device probe in the app alone.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '../../..');
const outMain = join(repoRoot, 'out/main');

type StartWorker = (name: string, options?: WorkerOptions) => Worker;
type ForkWorker = (name: string, args: string[]) => ChildProcess;

async function bundled<T>(name: 'startWorker' | 'forkWorker'): Promise<T> {
  const chunks = readdirSync(join(outMain, 'chunks')).filter((f) => f.startsWith('start-worker-'));
  const [chunk] = chunks;
  if (chunks.length !== 1 || !chunk) throw new Error('out/main/chunks must hold one start-worker chunk (run `npm run build` first)');
  const module = (await import(pathToFileURL(join(outMain, 'chunks', chunk)).href)) as Record<string, unknown>;
  const start = Object.values(module).find((value) => typeof value === 'function' && value.name === name);
  if (!start) throw new Error(`no ${name} exported by ${chunk}`);
  return start as T;
}

describe('the bundled app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds every worker that the sources start', () => {
    const names = new Set<string>();
    const walk = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) for (const [, name] of readFileSync(path, 'utf8').matchAll(/startWorker\('([\w-]+)'/g)) names.add(name ?? '');
      }
    };
    walk(join(repoRoot, 'src-main'));
    expect(names.size).toBeGreaterThan(3);
    const built = readdirSync(join(outMain, 'workers'));
    for (const name of names) expect(built).toContain(`${name}.worker.js`);
  });

  it('starts a worker from the bundle and gets its answer', async () => {
    const path = join(dir, 'data.bin');
    const data = Buffer.from('続きを書く'.repeat(1000));
    writeFileSync(path, data);
    const worker = (await bundled<StartWorker>('startWorker'))('hash', { workerData: { path, algorithm: 'sha256' } });
    const message = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }).finally(() => worker.terminate());
    expect(message).toEqual({ type: 'done', hex: createHash('sha256').update(data).digest('hex'), size: data.length });
  });

  it('runs the device probe from the bundle as a child process, which answers over its channel', async () => {
    const child = (await bundled<ForkWorker>('forkWorker'))('device-probe', [JSON.stringify({ provider: 'cpu', threads: 1, cpuMs: null })]);
    child.stdout?.resume();
    child.stderr?.resume();
    const message = await new Promise<unknown>((resolve, reject) => {
      child.once('message', resolve);
      child.once('error', reject);
      child.once('close', (code) => reject(new Error(`the probe ended with ${code} before it answered`)));
    });
    expect(message).toEqual({ cpuMs: expect.any(Number), deviceMs: expect.any(Number) });
  });
});
