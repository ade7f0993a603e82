#!/usr/bin/env node
// `npm start`: opens the app in Electron. Electron's binary is not part of `npm install` (it is fetched on first
// run); where that download is impossible, say in a few lines what to do instead of Electron's own stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const electronDir = dirname(require.resolve('electron/package.json'));
const { version } = require('electron/package.json');

/** Mirrors electron's own check (install.js): the binary of this version is unpacked in dist/. */
function installed() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return true;
  try {
    const platformPath = readFileSync(join(electronDir, 'path.txt'), 'utf8');
    const distVersion = readFileSync(join(electronDir, 'dist', 'version'), 'utf8').replace(/^v/, '').trim();
    return distVersion === version && existsSync(join(electronDir, 'dist', platformPath));
  } catch {
    return false;
  }
}

/** The line of the failed download that names the cause (ENOTFOUND, a status code…), not its stack. */
function cause(output) {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const line = lines.find((l) => !l.startsWith('at ') && /error|failed|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|status/i.test(l)) ?? lines[0];
  return (line ?? 'no output').replace(/^\w*Error: /, '');
}

if (!installed()) {
  process.stderr.write(`Downloading Electron ${version} (first start only)…\n`);
  const download = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8' });
  if (download.status !== 0 || !installed()) {
    process.stderr.write(
      [
        `npm start needs Electron's binary, and it could not be downloaded: ${cause(`${download.stderr ?? ''}${download.stdout ?? ''}`)}`,
        '  Install it once you are online:     npx install-electron',
        '  (behind a mirror, set ELECTRON_MIRROR first: https://www.electronjs.org/docs/latest/tutorial/installation)',
        '  Meanwhile, the same editor opens in your browser:     npx tsuzuki serve',
        '',
      ].join('\n'),
    );
    process.exit(1);
  }
}

const electronVite = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
const child = spawn(process.execPath, [electronVite, 'preview', ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
