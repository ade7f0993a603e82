/**
 * The packaged app: `npm run dist -- --dir` builds it with electron-builder (fuses, asar, unpacked native modules,
 * better-sqlite3 rebuilt for Electron), then the unpacked executable is started and driven over the Chrome DevTools
 * protocol (Playwright's Electron launcher needs --inspect, which the fuses turn off). Runs wherever the Electron
 * binary is installed (the release workflow); skipped elsewhere, with the reason as each test's note. Leaves better-sqlite3 in
 * node_modules built for Electron: run Node-side tests before it, or `npm rebuild better-sqlite3` after.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { artifactPath } from '../helpers/browser';
import { findElectron, skipWithoutElectron } from '../helpers/electron';
import { repoRoot } from '../helpers/serve';

const electron = findElectron();

/** The unpacked app electron-builder's `--dir` writes for this machine: [fuse file path, executable]. */
function unpackedApp(): [string, string] {
  const dist = join(repoRoot, 'dist');
  const arch = process.arch === 'x64' ? '' : `-${process.arch}`;
  const candidates: Array<[string, string]> =
    process.platform === 'darwin'
      ? [join(dist, `mac${arch}`, 'Tsuzuki.app')].map((app) => [app, join(app, 'Contents', 'MacOS', 'Tsuzuki')])
      : process.platform === 'win32'
        ? [join(dist, `win${arch}-unpacked`, 'Tsuzuki.exe')].map((exe) => [exe, exe])
        : [join(dist, `linux${arch}-unpacked`, 'tsuzuki')].map((exe) => [exe, exe]);
  const found = candidates.find(([, exe]) => existsSync(exe));
  if (!found) throw new Error(`npm run dist -- --dir wrote none of ${candidates.map(([, exe]) => exe).join(', ')}`);
  return found;
}

/** Starts the app with a DevTools port and resolves with its WebSocket URL. */
function start(executable: string, home: string): Promise<{ child: ChildProcess; ws: string }> {
  const child = spawn(executable, ['--remote-debugging-port=0', `--user-data-dir=${join(home, 'user-data')}`], {
    env: { ...process.env, TSUZUKI_HOME: home, ELECTRON_ENABLE_LOGGING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) resolve({ child, ws: match[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the packaged app exited (${code}) before it listened:\n${output}`)));
    child.once('error', reject);
  });
}

describe('the packaged app', () => {
  let fuseFile: string;
  let child: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeEach(skipWithoutElectron(electron));
  beforeAll(async () => {
    if ('reason' in electron) return;
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const built = spawnSync(npm, ['run', 'dist', '--', '--dir'], { cwd: repoRoot, stdio: 'inherit', shell: process.platform === 'win32' });
    if (built.status !== 0) throw new Error(`npm run dist -- --dir failed (exit ${built.status})`);
    const [fuses, executable] = unpackedApp();
    fuseFile = fuses;
    const started = await start(executable, mkdtempSync(join(tmpdir(), 'tsuzuki-packaged-')));
    child = started.child;
    browser = await chromium.connectOverCDP(started.ws);
    const context = browser.contexts()[0]!;
    const isApp = (p: Page) => p.url().startsWith('app://');
    page = context.pages().find(isApp) ?? (await context.waitForEvent('page', { predicate: isApp }));
    await page.waitForLoadState('domcontentloaded');
  }, 900_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    child?.kill();
  });

  it('runs with the security fuses flipped', async () => {
    const wire = await getCurrentFuseWire(fuseFile);
    expect([
      wire[FuseV1Options.RunAsNode],
      wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable],
      wire[FuseV1Options.EnableNodeCliInspectArguments],
      wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation],
      wire[FuseV1Options.OnlyLoadAppFromAsar],
      wire[FuseV1Options.EnableCookieEncryption],
    ]).toEqual([FuseState.DISABLE, FuseState.DISABLE, FuseState.DISABLE, FuseState.ENABLE, FuseState.ENABLE, FuseState.ENABLE]);
  });

  it('loads onnxruntime and better-sqlite3 from app.asar.unpacked', async () => {
    const call = (channel: string) =>
      page.evaluate(async (name) => {
        const [ns, method] = name.split('.') as [string, string];
        const api = (window as unknown as { tsuzuki: Record<string, Record<string, (input: object) => Promise<unknown>>> }).tsuzuki;
        return api[ns]![method]!({});
      }, channel);
    const info = (await call('app.info')) as { ok: boolean; value: { version: string; electron: string | null; onnxruntime: { providers: string[]; error: string | null } } };
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(info.ok).toBe(true);
    expect(info.value.version).toBe(pkg.version);
    expect(info.value.electron).not.toBeNull();
    expect(info.value.onnxruntime.error).toBeNull();
    expect(info.value.onnxruntime.providers).toContain('cpu');
    // Settings live in the SQLite store: an answer means better-sqlite3 loaded with Electron's ABI.
    expect(await call('settings.get')).toMatchObject({ ok: true });
    await page.screenshot({ path: artifactPath('packaged-app.png') });
  });
});
