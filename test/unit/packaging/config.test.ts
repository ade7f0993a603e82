/**
 * The electron-builder configuration: security- and size-relevant settings, with the file globs evaluated by
 * electron-builder's own matcher against this repository's real node_modules for every target.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { createConfig } from '../../../electron-builder';
import { ORT_BIN } from '../../../build/after-pack';
import { appFiles, asarUnpackFilter, loadBuilderConfig, nodeModulesFilter, repoRoot, toPosix, walkFiltered, type Os } from './matchers';

const ortRoot = join(repoRoot, ORT_BIN);
const targets: Array<{ os: Os; platform: string; arch: string }> = [
  { os: 'win', platform: 'win32', arch: 'x64' },
  { os: 'win', platform: 'win32', arch: 'arm64' },
  { os: 'mac', platform: 'darwin', arch: 'arm64' },
  { os: 'mac', platform: 'darwin', arch: 'x64' },
  { os: 'linux', platform: 'linux', arch: 'x64' },
];

const archesOf = (targetList: unknown): string[] =>
  (targetList as Array<{ target: string; arch: string[] }>).flatMap((t) => t.arch.map((a) => `${t.target}:${a}`)).sort();

describe('electron-builder configuration', () => {
  it('names the app and its targets', () => {
    expect(config.appId).toBe('app.tsuzuki.desktop');
    expect(config.productName).toBe('Tsuzuki');
    expect(archesOf(config.win?.target)).toEqual(['nsis:arm64', 'nsis:x64']);
    expect(archesOf(config.mac?.target)).toEqual(['dmg:arm64', 'dmg:x64', 'zip:arm64', 'zip:x64']);
    expect(archesOf(config.linux?.target)).toEqual(['AppImage:x64', 'deb:x64']);
    expect(config.nsis?.installerLanguages).toEqual(['ja_JP']);
    expect(config.nsis?.language).toBe('1041');
  });

  it('packs into an asar and flips the security fuses, asar integrity included', () => {
    expect(config.asar).toEqual({ smartUnpack: false });
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
      resetAdHocDarwinSignature: true,
    });
    expect(config.disableAsarIntegrity ?? false).toBe(false);
    expect(typeof config.afterPack).toBe('function');
  });

  it('rebuilds native modules for Electron at packaging, with no install-time hook', () => {
    expect(config.npmRebuild).toBe(true);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.dist).toBe('electron-vite build && electron-builder');
    expect(pkg.scripts.postinstall).toBeUndefined();
  });

  it('forces code signing and notarization only in release builds', () => {
    const apple = { APPLE_API_KEY: '/tmp/AuthKey.p8', APPLE_API_KEY_ID: 'KEYID', APPLE_API_ISSUER: 'issuer' };
    const release = createConfig({ TSUZUKI_RELEASE: '1', ...apple }, 'darwin');
    expect(release.forceCodeSigning).toBe(true);
    expect(release.mac?.notarize).toBe(true);
    expect(() => createConfig({ TSUZUKI_RELEASE: '1', ...apple, APPLE_API_ISSUER: '' }, 'darwin')).toThrow(/APPLE_API_ISSUER not set/);
    expect(createConfig({ TSUZUKI_RELEASE: '1' }, 'win32').forceCodeSigning).toBe(true);
    const local = createConfig({}, 'darwin');
    expect(local.forceCodeSigning).toBe(false);
    expect(local.mac?.notarize).toBe(false);
  });

  it('signs Windows native modules and DLLs, with a certificate or Azure Trusted Signing', () => {
    expect(config.win?.signExts).toEqual(expect.arrayContaining(['.node', '.dll']));
    expect(createConfig({}).win).not.toHaveProperty('azureSignOptions');
    const azureEnv = {
      AZURE_TRUSTED_SIGNING_ENDPOINT: 'https://weu.codesigning.azure.net',
      AZURE_TRUSTED_SIGNING_ACCOUNT: 'tsuzuki',
      AZURE_TRUSTED_SIGNING_PROFILE: 'public',
      AZURE_TRUSTED_SIGNING_PUBLISHER: 'Tsuzuki',
    };
    expect(createConfig(azureEnv).win?.azureSignOptions).toEqual({
      endpoint: 'https://weu.codesigning.azure.net',
      codeSigningAccountName: 'tsuzuki',
      certificateProfileName: 'public',
      publisherName: 'Tsuzuki',
    });
    expect(() => createConfig({ ...azureEnv, AZURE_TRUSTED_SIGNING_PROFILE: '' })).toThrow(/AZURE_TRUSTED_SIGNING_PROFILE/);
  });

  it('uses the hardened runtime with only the JIT entitlement on macOS', () => {
    expect(config.mac?.hardenedRuntime).toBe(true);
    expect(config.mac?.entitlements).toBe('build/entitlements.mac.plist');
    expect(config.mac?.entitlementsInherit).toBe('build/entitlements.mac.plist');
    const plist = readFileSync(join(repoRoot, 'build/entitlements.mac.plist'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    const entries = [...plist.matchAll(/<key>([^<]+)<\/key>\s*<(true|false)\/>/g)].map((m) => [m[1], m[2]]);
    expect(entries).toEqual([['com.apple.security.cs.allow-jit', 'true']]);
  });

  it('publishes drafts to GitHub releases for electron-updater', () => {
    expect(config.publish).toMatchObject({ provider: 'github', releaseType: 'draft' });
    expect(createConfig({ GITHUB_REPOSITORY: 'someone/tsuzuki' }).publish).toEqual({
      provider: 'github',
      releaseType: 'draft',
      owner: 'someone',
      repo: 'tsuzuki',
    });
  });
});

// As electron-builder itself finds, loads and normalizes it.
const builderConfig = await loadBuilderConfig();

describe.each(targets)('files for $platform/$arch', ({ os, platform, arch }) => {
  const shipped = walkFiltered(ortRoot, nodeModulesFilter(builderConfig, os, arch)).map(toPosix);
  const own = `${ORT_BIN}/${platform}/${arch}/`;

  it('ships only the electron-vite bundle and package.json of the project itself', () => {
    const files = appFiles(builderConfig, os, arch);
    expect(files.filter((f) => !/^out\/(main|preload|renderer)\//.test(f) && f !== 'package.json')).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it("ships only the target's onnxruntime binaries", () => {
    const binaries = shipped.filter((f) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(f));
    expect(binaries.filter((f) => !f.startsWith(own))).toEqual([]);
    const ownDir = join(ortRoot, platform, arch);
    const ownFiles = existsSync(ownDir) ? walkFiltered(ownDir, () => true).map(toPosix) : [];
    expect(binaries.sort()).toEqual(ownFiles.sort());
  });

  it('unpacks every native binary of both native modules from the asar', () => {
    const unpack = asarUnpackFilter(builderConfig, os, arch);
    const isUnpacked = (file: string) => unpack(join(repoRoot, file), { isDirectory: () => false });
    for (const file of shipped) expect(isUnpacked(file), file).toBe(true);
    expect(isUnpacked('node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toBe(true);
    expect(isUnpacked('node_modules/better-sqlite3/lib/database.js')).toBe(false);
  });
});

it('has onnxruntime binaries installed for every target but Intel macOS (onnxruntime-node 1.30 ships none)', () => {
  const present = targets.filter((t) => walkFiltered(join(ortRoot, t.platform), () => true).some((f) => f.includes(`/${t.arch}/`)));
  expect(present.map((t) => `${t.platform}/${t.arch}`)).toEqual(['win32/x64', 'win32/arm64', 'darwin/arm64', 'linux/x64']);
});
