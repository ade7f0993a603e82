/** Starts the real `tsuzuki serve` CLI in a child process and returns its URL (with the token). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Served {
  url: string;
  origin: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function startServe(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [`${repoRoot}bin/tsuzuki.js`, 'serve', '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = /serving at (http:\/\/\S+)/.exec(stdout);
      if (!match) return;
      const url = match[1]!;
      resolve({
        url,
        origin: new URL(url).origin,
        process: child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            // A clean shutdown is expected; the kill only keeps a broken one from hanging the test run.
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`tsuzuki serve exited with ${code}: ${stderr}`)));
  });
}
