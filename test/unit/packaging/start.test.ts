/** `npm start` where Electron's binary cannot be downloaded: a short message that says what to do, no stack trace. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './matchers';

const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
const binaryInstalled = existsSync(join(electronDir, 'path.txt'));

describe('npm start', () => {
  it.skipIf(binaryInstalled)('says how to get Electron and that `tsuzuki serve` works meanwhile, when the download fails', () => {
    const cache = mkdtempSync(join(tmpdir(), 'tsuzuki-electron-cache-'));
    try {
      // Port 9 on loopback refuses at once: the download fails as it does offline, without waiting on DNS.
      const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache };
      delete env.ELECTRON_OVERRIDE_DIST_PATH;
      const run = spawnSync(process.execPath, [join(repoRoot, 'bin/start.js')], { env, encoding: 'utf8', timeout: 60_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("npm start needs Electron's binary, and it could not be downloaded: fetch failed");
      expect(run.stderr).toContain('npx install-electron');
      expect(run.stderr).toContain('npx tsuzuki serve');
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).toBe('');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('npm install', () => {
  it("skips onnxruntime-node's CUDA download through the project's npm configuration", () => {
    const env = { ...process.env };
    delete env.ONNXRUNTIME_NODE_INSTALL;
    delete env.npm_config_onnxruntime_node_install;
    const run = spawnSync('npm', ['config', 'get', 'onnxruntime-node-install'], { cwd: repoRoot, env, encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('skip');
  });
});
