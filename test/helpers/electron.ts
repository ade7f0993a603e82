import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The Electron binary from node_modules, or the reason it cannot be used here. Found as electron's index.js finds
 * it (path.txt, under dist/ or ELECTRON_OVERRIDE_DIST_PATH) without requiring that file: where the binary is missing,
 * it starts a download and prints its progress and failure into the test run.
 */
export function findElectron(): { path: string } | { reason: string } {
  const dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(dir, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8') : 'electron';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const path = override ? join(override, executable) : join(dir, 'dist', executable);
  return existsSync(path) ? { path } : { reason: `the Electron binary is not installed (no ${path}; \`npx install-electron\` installs it)` };
}

/**
 * For a suite that needs Electron, as `beforeEach`: where it cannot run, each test is skipped with the reason as its
 * note, which the reporter shows with the skip (a printed line would be noise in every passing run). The suite's
 * `beforeAll` returns early there.
 */
export function skipWithoutElectron(electron: ReturnType<typeof findElectron>) {
  return ({ skip }: { skip: (note?: string) => void }) => {
    if ('reason' in electron) skip(electron.reason);
  };
}
