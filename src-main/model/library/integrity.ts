/**
 * A converted model's files against its manifest, after an import and before every load. Each file the manifest
 * lists must be a file in the model's folder (a symlink may not lead out of it) of the recorded size: cheap, so
 * always. Its sha256 is compared only when the file changed since it last matched (hashing 2.7 GB takes seconds,
 * in the hash worker): `verified.json` beside the model keeps the size and mtime each file had when it matched.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { z } from 'zod';
import { fileProblem } from '../format/checksum';
import { VERIFIED_FILE, type Manifest } from '../format/manifest';

const verifiedSchema = z.record(z.string(), z.object({ sha256: z.string(), size: z.number(), mtimeMs: z.number() }));
type Verified = z.infer<typeof verifiedSchema>;

interface ModelFilesCheck {
  /** The first file that does not match and how (`model.onnx.data: size 100, expected 721920`); null when all match. */
  problem: string | null;
  /** The files this check hashed; the others were as they were when they last matched. */
  hashed: string[];
}

export async function checkModelFiles(dir: string, manifest: Manifest, signal?: AbortSignal): Promise<ModelFilesCheck> {
  const root = await realpath(dir);
  const files: Array<{ name: string; path: string; sha256: string; size: number; mtimeMs: number }> = [];
  // Every size before any hash: a truncated file is refused at once, whatever its place in the list.
  for (const [name, expected] of Object.entries(manifest.files.outputs)) {
    const path = join(dir, name);
    const where = await fileInsideProblem(root, path);
    if (where) return { problem: `${name}: ${where}`, hashed: [] };
    const { size, mtimeMs } = await stat(path);
    if (size !== expected.size) return { problem: `${name}: size ${size}, expected ${expected.size}`, hashed: [] };
    files.push({ name, path, sha256: expected.sha256, size, mtimeMs });
  }
  const before = await readVerified(dir);
  const after: Verified = {};
  const hashed: string[] = [];
  for (const { name, path, ...seen } of files) {
    const known = before[name];
    if (known?.sha256 !== seen.sha256 || known.size !== seen.size || known.mtimeMs !== seen.mtimeMs) {
      hashed.push(name);
      const problem = await fileProblem(path, { algorithm: 'sha256', value: seen.sha256 }, seen.size, signal);
      if (problem) return { problem: `${name}: ${problem}`, hashed };
    }
    after[name] = seen;
  }
  if (hashed.length > 0) await writeVerified(dir, after);
  return { problem: null, hashed };
}

/**
 * Why `path` is not a file inside the folder whose real path is `root`, or null. A symlink may point elsewhere in
 * the folder (nothing Tsuzuki writes is one), never out of it.
 */
export async function fileInsideProblem(root: string, path: string): Promise<string | null> {
  const entry = await lstat(path).catch(() => null);
  if (!entry) return 'missing';
  if (entry.isSymbolicLink()) {
    const real = await realpath(path).catch(() => null);
    if (real === null) return 'missing (a broken link)';
    if (!real.startsWith(root + sep)) return `a link to ${real}, outside the folder`;
  }
  return (await stat(path)).isFile() ? null : 'not a file';
}

async function readVerified(dir: string): Promise<Verified> {
  try {
    const parsed = verifiedSchema.safeParse(JSON.parse(await readFile(join(dir, VERIFIED_FILE), 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {}; // missing, unreadable or damaged: every file is hashed again
  }
}

/** A folder that cannot be written only means no cache: each load hashes again. */
async function writeVerified(dir: string, verified: Verified): Promise<void> {
  const file = join(dir, VERIFIED_FILE);
  const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(partial, JSON.stringify(verified, null, 2) + '\n');
    await rename(partial, file);
  } catch {
    await rm(partial, { force: true }).catch(() => undefined);
  }
}
