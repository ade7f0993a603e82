/** The afterPack check that refuses a package whose native modules are missing, packed, or from another target. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ORT_BIN, verifyNativeModules } from '../../../build/after-pack';
import { repoRoot } from './matchers';

const SQLITE = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
const dirs: string[] = [];

/** A resources folder whose app.asar.unpacked holds the given files (names of the real onnxruntime-node tree). */
function resources(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-afterpack-'));
  dirs.push(dir);
  for (const file of files) {
    const path = join(dir, 'app.asar.unpacked', file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  }
  return dir;
}
const ortFiles = (platform: string, arch: string) =>
  readdirSync(join(repoRoot, ORT_BIN, platform, arch)).map((f) => `${ORT_BIN}/${platform}/${arch}/${f}`);

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('verifyNativeModules', () => {
  const check = (resourcesDir: string, platform: string, arch: string) =>
    verifyNativeModules({ resourcesDir, projectDir: repoRoot, platform, arch });

  it("accepts both native modules unpacked with exactly the target's onnxruntime files", () => {
    expect(check(resources([SQLITE, ...ortFiles('win32', 'arm64')]), 'win32', 'arm64')).toEqual([]);
  });

  it('refuses another platform or arch shipped alongside', () => {
    const dir = resources([SQLITE, ...ortFiles('linux', 'x64'), ...ortFiles('linux', 'arm64')]);
    expect(() => check(dir, 'linux', 'x64')).toThrow(/other targets are shipped \(linux\/arm64, linux\/x64\)/);
    const foreign = resources([SQLITE, ...ortFiles('linux', 'x64'), ...ortFiles('darwin', 'arm64')]);
    expect(() => check(foreign, 'linux', 'x64')).toThrow(/darwin\/arm64/);
  });

  it('refuses a package whose binaries stayed inside the asar', () => {
    expect(() => check(resources(ortFiles('linux', 'x64')), 'linux', 'x64')).toThrow(/better_sqlite3\.node is not unpacked/);
    const noLib = ortFiles('linux', 'x64').filter((f) => !f.endsWith('.so.1'));
    expect(() => check(resources([SQLITE, ...noLib]), 'linux', 'x64')).toThrow(/not unpacked: libonnxruntime\.so\.1/);
  });

  it('warns when onnxruntime-node publishes nothing for the target (Intel macOS)', () => {
    expect(check(resources([SQLITE]), 'darwin', 'x64')).toEqual(['onnxruntime-node has no darwin/x64 binaries: this build cannot run models']);
  });
});
