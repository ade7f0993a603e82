/**
 * A real electron-builder run (linux x64, `dir` target) over this repository, so the shipped file list is what
 * electron-builder itself copies: its node_modules collector, the configured globs, asar packing, asarUnpack, the
 * afterPack check and the fuses. Only the Electron binary differs: none can be downloaded here, so a stand-in
 * carries Electron's fuse wire (sentinel + version + states), and the fuse flip is read back from it.
 * Native modules are not rebuilt (npmRebuild off): that step downloads Electron headers.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arch, Platform, build } from 'electron-builder';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { ORT_BIN } from '../../../build/after-pack';
import { repoRoot } from './matchers';

const require = createRequire(import.meta.url);
const { extractFile, listPackage } = require('@electron/asar') as {
  extractFile(archive: string, filename: string): Buffer;
  listPackage(archive: string, options: { isPack: boolean }): string[];
};

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron 45's wire as shipped: RunAsNode, -, NodeOptions, Inspect on; cookie encryption, asar integrity, asar-only,
// V8 snapshot off; file protocol privileges and wasm trap handlers on.
const SHIPPED_WIRE = '101100011';

function standInElectron(dir: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  mkdirSync(join(dir, 'locales'), { recursive: true });
  for (const locale of ['ja', 'en-US', 'fr', 'zh-CN']) writeFileSync(join(dir, 'locales', `${locale}.pak`), locale);
  const wire = Buffer.concat([Buffer.from(SENTINEL), Buffer.from([1, SHIPPED_WIRE.length]), Buffer.from(SHIPPED_WIRE)]);
  writeFileSync(join(dir, 'electron'), Buffer.concat([Buffer.alloc(4096, 0x90), wire, Buffer.alloc(4096, 0x90)]), { mode: 0o755 });
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

interface LockEntry {
  version?: string;
  dev?: boolean;
}

describe('electron-builder dry run (linux x64, dir)', () => {
  const work = mkdtempSync(join(tmpdir(), 'tsuzuki-dist-'));
  const savedRepository = process.env.GITHUB_REPOSITORY;
  let appDir: string;
  let asarPath: string;
  let inAsar: string[];
  let unpacked: string[];

  beforeAll(async () => {
    const electronDist = join(work, 'electron');
    standInElectron(electronDist);
    // The config reads the repository from the environment when electron-builder loads it.
    process.env.GITHUB_REPOSITORY = 'tsuzuki-test/tsuzuki';
    await build({
      projectDir: repoRoot,
      targets: Platform.LINUX.createTarget('dir', Arch.x64),
      publish: 'never',
      config: { directories: { output: join(work, 'dist') }, electronDist, npmRebuild: false },
    });
    appDir = join(work, 'dist', 'linux-unpacked');
    const resources = join(appDir, 'resources');
    asarPath = join(resources, 'app.asar');
    inAsar = listPackage(asarPath, { isPack: false }).map((p) => p.replace(/^[\\/]/, '').split(sep).join('/'));
    const unpackedRoot = join(resources, 'app.asar.unpacked');
    unpacked = walk(unpackedRoot).map((p) => relative(unpackedRoot, p).split(sep).join('/'));
  }, 600_000);

  afterAll(() => {
    if (savedRepository === undefined) delete process.env.GITHUB_REPOSITORY;
    else process.env.GITHUB_REPOSITORY = savedRepository;
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the built app and its package.json', () => {
    expect(inAsar).toEqual(expect.arrayContaining(['package.json', 'out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']));
  });

  it('ships no tests, fixtures, sources, source maps or caches', () => {
    const all = [...inAsar, ...unpacked];
    const offending = all.filter(
      (p) =>
        /^(test|src-main|src-preload|src-renderer|resources|build|bin|\.cache|\.ci|dist)(\/|$)/.test(p) ||
        /(^|\/)(test|tests|__tests__|fixtures)\//.test(p) ||
        /\.(map|ts|mts|cts)$/.test(p) ||
        /(^|\/)\.cache\//.test(p),
    );
    expect(offending).toEqual([]);
  });

  it('ships no development dependencies', () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const modules = new Set(
      [...inAsar, ...unpacked].flatMap((p) => {
        const m = /^((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)/.exec(p);
        return m ? [m[1]!.slice(0, -1)] : [];
      }),
    );
    expect(modules.size).toBeGreaterThan(5);
    // electron-builder lays out a dependency's own copy of a package (docx's nanoid 6) where the repository keeps a
    // development one (postcss's nanoid 3): a shipped package is a development one when every copy of its name and
    // version in the lock is.
    const listed = new Set(inAsar);
    // A scope's folder (node_modules/@types) is in the listing too, but it is no package.
    const dev = [...modules].filter((m) => {
      if (!listed.has(`${m}/package.json`)) return false;
      const { name, version } = JSON.parse(extractFile(asarPath, `${m}/package.json`).toString('utf8')) as { name: string; version: string };
      const copies = Object.entries(lock.packages).filter(([key, entry]) => key.endsWith(`node_modules/${name}`) && entry.version === version);
      return copies.length === 0 || copies.every(([, entry]) => entry.dev === true);
    });
    expect(dev).toEqual([]);
    for (const name of ['electron', 'electron-builder', 'vitest', 'typescript', 'svelte', 'vite', 'playwright-core', '@huggingface/transformers']) {
      expect(modules.has(`node_modules/${name}`), name).toBe(false);
    }
    for (const name of ['better-sqlite3', 'onnxruntime-node', 'onnxruntime-common', 'electron-updater', 'zod', 'ws']) {
      expect(modules.has(`node_modules/${name}`), name).toBe(true);
    }
  });

  it('unpacks both native modules, with only the linux/x64 onnxruntime binaries', () => {
    expect(unpacked).toContain('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const ort = unpacked.filter((p) => p.startsWith(`${ORT_BIN}/`));
    expect(ort).toContain(`${ORT_BIN}/linux/x64/onnxruntime_binding.node`);
    expect(ort).toContain(`${ORT_BIN}/linux/x64/libonnxruntime.so.1`);
    expect(ort.filter((p) => !p.startsWith(`${ORT_BIN}/linux/x64/`))).toEqual([]);
    expect(inAsar.filter((p) => /\.(node|so(\.\d+)*|dll|dylib)$/.test(p) && !unpacked.includes(p))).toEqual([]);
    expect(unpacked.some((p) => p.startsWith('node_modules/better-sqlite3/deps/') || p.startsWith('node_modules/better-sqlite3/src/'))).toBe(false);
    expect(unpacked).not.toContain('node_modules/better-sqlite3/build/Release/test_extension.node');
    // JavaScript stays inside the asar, where the integrity check covers it.
    expect(unpacked.filter((p) => !/\.(node|so(\.\d+)*|dll|dylib)$/.test(p))).toEqual([]);
  });

  it('keeps the packaged app small', () => {
    const bytes = (p: string) => statSync(p).size;
    const unpackedRoot = join(appDir, 'resources', 'app.asar.unpacked');
    const total = bytes(join(appDir, 'resources', 'app.asar')) + unpacked.reduce((n, p) => n + bytes(join(unpackedRoot, p)), 0);
    // linux/x64 onnxruntime is ~45 MB of it; all platforms' binaries would add ~245 MB.
    expect(total).toBeLessThan(80 * 1024 * 1024);
  });

  it("keeps only Chromium's Japanese and English locales", () => {
    expect(readdirSync(join(appDir, 'locales')).sort()).toEqual(['en-US.pak', 'ja.pak']);
  });

  it('flips the fuses in the packaged binary', async () => {
    const wire = await getCurrentFuseWire(join(appDir, 'tsuzuki'));
    expect({
      runAsNode: wire[FuseV1Options.RunAsNode],
      cookieEncryption: wire[FuseV1Options.EnableCookieEncryption],
      nodeOptions: wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable],
      inspect: wire[FuseV1Options.EnableNodeCliInspectArguments],
      asarIntegrity: wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation],
      onlyAsar: wire[FuseV1Options.OnlyLoadAppFromAsar],
      fileProtocol: wire[FuseV1Options.GrantFileProtocolExtraPrivileges],
    }).toEqual({
      runAsNode: FuseState.DISABLE,
      cookieEncryption: FuseState.ENABLE,
      nodeOptions: FuseState.DISABLE,
      inspect: FuseState.DISABLE,
      asarIntegrity: FuseState.ENABLE,
      onlyAsar: FuseState.ENABLE,
      fileProtocol: FuseState.DISABLE,
    });
  });

  it('bakes the GitHub release feed into app-update.yml for electron-updater', () => {
    const yml = readFileSync(join(appDir, 'resources', 'app-update.yml'), 'utf8');
    expect(yml).toMatch(/^provider: github$/m);
    expect(yml).toMatch(/^owner: tsuzuki-test$/m);
    expect(yml).toMatch(/^repo: tsuzuki$/m);
  });
});
