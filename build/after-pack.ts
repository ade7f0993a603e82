import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Arch, type AfterPackContext } from 'electron-builder';

/** Where onnxruntime-node keeps its prebuilt binaries, one folder per platform and arch. */
export const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
const SQLITE_NODE = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';

const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

/**
 * Checks the packaged app's native modules: both unpacked from the asar (a `.node` and its shared libraries cannot be
 * loaded from inside it), and onnxruntime holding exactly the target's binaries. Returns warnings; throws on errors.
 */
export function verifyNativeModules(opts: {
  resourcesDir: string;
  projectDir: string;
  platform: string;
  arch: string;
}): string[] {
  const { resourcesDir, projectDir, platform, arch } = opts;
  const unpacked = join(resourcesDir, 'app.asar.unpacked');
  const problems: string[] = [];
  const warnings: string[] = [];

  if (!existsSync(join(unpacked, SQLITE_NODE))) problems.push(`${SQLITE_NODE} is not unpacked from app.asar`);

  const ortDir = join(unpacked, ORT_BIN);
  const platforms = list(ortDir);
  const arches = list(join(ortDir, platform));
  if (platforms.some((p) => p !== platform) || arches.some((a) => a !== arch)) {
    const shipped = platforms.flatMap((p) => list(join(ortDir, p)).map((a) => `${p}/${a}`));
    problems.push(`onnxruntime binaries of other targets are shipped (${shipped.join(', ')}); only ${platform}/${arch} belongs`);
  }
  const source = list(resolve(projectDir, ORT_BIN, platform, arch));
  if (source.length === 0) {
    // onnxruntime-node 1.30 publishes no darwin/x64 build: such an app starts, but cannot run a model.
    warnings.push(`onnxruntime-node has no ${platform}/${arch} binaries: this build cannot run models`);
  } else {
    const missing = source.filter((f) => !existsSync(join(ortDir, platform, arch, f)));
    if (missing.length > 0) problems.push(`onnxruntime ${platform}/${arch} files not unpacked: ${missing.join(', ')}`);
  }

  if (problems.length > 0) {
    throw new Error(`Packaged app in ${resourcesDir} is broken:\n- ${problems.join('\n- ')}\nCheck files/asarUnpack in electron-builder.ts.`);
  }
  return warnings;
}

export default async function afterPack(context: AfterPackContext): Promise<void> {
  const warnings = verifyNativeModules({
    resourcesDir: context.packager.getResourcesDir(context.appOutDir),
    projectDir: context.packager.projectDir,
    platform: context.electronPlatformName,
    arch: Arch[context.arch],
  });
  for (const warning of warnings) console.warn(`  • afterPack: ${warning}`);
}
