/**
 * electron-builder's own configuration loading (file discovery, normalization, merging) and file-matcher assembly,
 * pointed at this repository, so tests evaluate the file lists exactly as a build for any target would.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import type { Configuration } from 'electron-builder';

const require = createRequire(import.meta.url);
export type Filter = (file: string, stat: { isDirectory(): boolean }) => boolean;
interface Matcher {
  createFilter(): Filter;
}
interface PackagerStub {
  info: PackagerInfoStub;
}
interface PackagerInfoStub {
  projectDir: string;
  buildResourcesDir: string;
  config: Configuration;
  isPrepackedAppAsar: boolean;
  debugLogger: { isEnabled: boolean };
}
const fileMatcher = require('app-builder-lib/out/fileMatcher') as {
  getMainFileMatchers(
    appDir: string,
    destination: string,
    expand: (s: string) => string,
    platformOptions: object,
    platformPackager: PackagerStub,
    outDir: string,
    isElectronCompile: boolean,
  ): Matcher[];
  getNodeModuleFileMatcher(appDir: string, destination: string, expand: (s: string) => string, platformOptions: object, packager: PackagerInfoStub): Matcher;
  getFileMatchers(config: Configuration, name: string, destination: string, options: object): Matcher[] | null;
};
const { expandMacro } = require('app-builder-lib/out/util/macroExpander') as {
  expandMacro: (pattern: string, arch: string | null, appInfo: object, extra: Record<string, string>) => string;
};
const { getConfig } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: object | null): Promise<Configuration>;
};

export const repoRoot = join(import.meta.dirname, '../../..');
export type Os = 'win' | 'mac' | 'linux';
const DEST = '/app';
const OUT_DIR = join(repoRoot, 'dist');

/** The configuration as electron-builder reads it from the project (normalized and merged). */
export const loadBuilderConfig = (): Promise<Configuration> => getConfig(repoRoot, null, null);

/** Same expansion as PlatformPackager.createGetFileMatchersOptions: `${arch}`, `${os}` and the `/*` shorthand. */
function expander(os: Os, arch: string): (s: string) => string {
  const appInfo = { productName: 'Tsuzuki', sanitizedProductName: 'Tsuzuki' };
  return (pattern) => expandMacro(pattern, arch, appInfo, { os, '/*': '{,/**/*}' });
}

function stub(config: Configuration): PackagerInfoStub {
  return { projectDir: repoRoot, buildResourcesDir: 'build', config, isPrepackedAppAsar: false, debugLogger: { isEnabled: false } };
}

/** Every file under `dir` that the filter lets through; an excluded folder is skipped whole, as electron-builder does. */
export function walkFiltered(dir: string, filter: Filter): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (!filter(path, entry)) continue;
    if (entry.isDirectory()) out.push(...walkFiltered(path, filter));
    else out.push(path);
  }
  return out;
}

export const toPosix = (path: string): string => relative(repoRoot, path).split(sep).join('/');

/** The project's own files (node_modules aside) that a build for the target copies: the union of its file sets. */
export function appFiles(config: Configuration, os: Os, arch: string): string[] {
  const options = (config[os] ?? {}) as object;
  const matchers = fileMatcher.getMainFileMatchers(repoRoot, DEST, expander(os, arch), options, { info: stub(config) }, OUT_DIR, false);
  const files = matchers.flatMap((m) => walkFiltered(repoRoot, m.createFilter()));
  return [...new Set(files.map(toPosix))].filter((f) => !f.startsWith('node_modules/')).sort();
}

/** The filter electron-builder applies to node_modules files for a target (only exclusions count there). */
export function nodeModulesFilter(config: Configuration, os: Os, arch: string): Filter {
  const options = (config[os] ?? {}) as object;
  return fileMatcher.getNodeModuleFileMatcher(repoRoot, DEST, expander(os, arch), options, stub(config)).createFilter();
}

/** The asarUnpack filter electron-builder builds for a target. */
export function asarUnpackFilter(config: Configuration, os: Os, arch: string): Filter {
  const matchers = fileMatcher.getFileMatchers(config, 'asarUnpack', DEST, {
    macroExpander: expander(os, arch),
    customBuildOptions: config[os] ?? {},
    globalOutDir: OUT_DIR,
    defaultSrc: repoRoot,
  });
  if (matchers === null || matchers[0] === undefined) throw new Error('asarUnpack is not configured');
  return matchers[0].createFilter();
}
