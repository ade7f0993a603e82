/**
 * electron-builder's own file matching (the FileMatcher and macro expander it packs with), pointed at this repo,
 * so tests evaluate the configured globs exactly as a build for another platform would.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import type { Configuration } from 'electron-builder';

const require = createRequire(import.meta.url);
type Filter = (file: string, stat: { isDirectory(): boolean }) => boolean;
interface Matcher {
  createFilter(): Filter;
}
const { FileMatcher, getNodeModuleFileMatcher } = require('app-builder-lib/out/fileMatcher') as {
  FileMatcher: new (from: string, to: string, expand: (s: string) => string, patterns?: string[]) => Matcher;
  getNodeModuleFileMatcher: (
    appDir: string,
    destination: string,
    expand: (s: string) => string,
    platformOptions: { files?: unknown },
    packager: { config: Configuration; debugLogger: { isEnabled: boolean } },
  ) => Matcher;
};
const { expandMacro } = require('app-builder-lib/out/util/macroExpander') as {
  expandMacro: (pattern: string, arch: string | null, appInfo: object, extra: Record<string, string>) => string;
};

export const repoRoot = join(import.meta.dirname, '../../..');
export type Os = 'win' | 'mac' | 'linux';

/** Same expansion as PlatformPackager.createGetFileMatchersOptions: `${arch}`, `${os}` and the `/*` shorthand. */
function expander(os: Os, arch: string): (s: string) => string {
  const appInfo = { productName: 'Tsuzuki', sanitizedProductName: 'Tsuzuki' };
  return (pattern) => expandMacro(pattern, arch, appInfo, { os, '/*': '{,/**/*}' });
}

/** Every file under `dir` whose directories the filter lets through (electron-builder skips excluded folders whole). */
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

/** The filter electron-builder applies to node_modules files for a target (only the config's exclusions count there). */
export function nodeModulesFilter(config: Configuration, os: Os, arch: string): Filter {
  const platformOptions = (config[os] ?? {}) as { files?: unknown };
  const matcher = getNodeModuleFileMatcher(repoRoot, '/app', expander(os, arch), platformOptions, {
    config,
    debugLogger: { isEnabled: false },
  });
  return matcher.createFilter();
}

/** The asarUnpack filter electron-builder builds from the config. */
export function asarUnpackFilter(config: Configuration, os: Os, arch: string): Filter {
  const patterns = [config.asarUnpack ?? []].flat() as string[];
  return new FileMatcher(repoRoot, '/app', expander(os, arch), patterns).createFilter();
}
