/**
 * The Hugging Face cache that Python tools already filled (`huggingface_hub`, transformers):
 * `<cache>/models--{org}--{name}/{refs/<rev>, snapshots/<commit>/<file> → ../../blobs/<etag>}`.
 * A blob's name is its checksum (sha256 for LFS files, git sha1 otherwise), so a cached file can be verified.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { digestFromHex, type Digest } from '../format/checksum';

/** Cache folders to look in, most specific first (the same variables huggingface_hub reads). */
export function hfCacheDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [
    env.HF_HUB_CACHE,
    env.HUGGINGFACE_HUB_CACHE,
    env.HF_HOME ? join(env.HF_HOME, 'hub') : undefined,
    env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'huggingface', 'hub') : undefined,
    join(homedir(), '.cache', 'huggingface', 'hub'),
  ];
  return [...new Set(dirs.filter((d): d is string => !!d))];
}

export function repoCacheFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.replaceAll('/', '--')}`);
}

/** A cached copy of one file: the blob named by its checksum, or the snapshot entry of that commit. */
export async function findCachedFile(
  cacheDirs: string[],
  repo: string,
  commit: string,
  path: string,
  digest: Digest,
): Promise<string | null> {
  for (const cache of cacheDirs) {
    const folder = repoCacheFolder(cache, repo);
    for (const candidate of [join(folder, 'blobs', digest.value), join(folder, 'snapshots', commit, path)]) {
      const real = await realpath(candidate).catch(() => null);
      if (real && (await stat(real).catch(() => null))?.isFile()) return real;
    }
  }
  return null;
}

export interface CachedSnapshot {
  commit: string;
  dir: string;
  /** File name → its blob's checksum where the entry is a symlink into blobs/ (null for a plain file). */
  files: Map<string, Digest | null>;
}

/** The snapshot a revision points to (for working offline): `refs/<revision>` → commit, or a commit sha itself. */
export async function findCachedSnapshot(cacheDirs: string[], repo: string, revision: string): Promise<CachedSnapshot | null> {
  for (const cache of cacheDirs) {
    const folder = repoCacheFolder(cache, repo);
    const commit = /^[0-9a-f]{40}$/.test(revision)
      ? revision
      : (await readFile(join(folder, 'refs', revision), 'utf8').catch(() => '')).trim();
    if (!commit) continue;
    const dir = join(folder, 'snapshots', commit);
    const names = await readdir(dir).catch(() => null);
    if (!names) continue;
    const blobs = await realpath(join(folder, 'blobs')).catch(() => null);
    const files = new Map<string, Digest | null>();
    for (const name of names) {
      const real = await realpath(join(dir, name)).catch(() => null);
      if (!real || !(await stat(real)).isFile()) continue;
      const blob = blobs && dirname(real) === blobs ? digestFromHex(basename(real)) : null;
      files.set(name, blob);
    }
    return { commit, dir, files };
  }
  return null;
}
