/**
 * Hostile model folders: the tiny fixture converted for real, then given a manifest entry or a link that leads out
 * of the folder. Importing must refuse them and leave every file outside the library as it was.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src-main/model/convert/convert';
import { repoRoot } from './serve';

export interface CraftedFolder {
  /** The folder to import: `<root>/in/a/b/crafted`. */
  folder: string;
  /** `<root>/victim.txt`, where the manifest's `../../../victim.txt` lands when copied from `<root>/models/crafted/fp32.importing`. */
  victim: string;
  /** What the victim holds, and must still hold after the import was refused. */
  precious: string;
}

/** A converted folder whose tsuzuki.json lists `entry` in files.outputs, with a matching checksum. */
export async function craftedManifestFolder(root: string, entry = '../../../victim.txt'): Promise<CraftedFolder> {
  const folder = join(root, 'in', 'a', 'b', 'crafted');
  await convertCheckpoint(join(repoRoot, 'test/fixtures/model/tiny-safetensors-fp32'), folder, { precision: 'fp32' });
  // What the copy would read (resolved from the crafted folder) and where it would write (from the library's temp folder).
  const payload = Buffer.from('payload from a crafted model folder\n');
  await writeFile(join(root, 'in', 'victim.txt'), payload);
  const victim = join(root, 'victim.txt');
  const precious = 'a file of the user, outside the library\n';
  await writeFile(victim, precious);
  const manifestFile = join(folder, 'tsuzuki.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  manifest.files.outputs[entry] = { sha256: createHash('sha256').update(payload).digest('hex'), size: payload.length };
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
  return { folder, victim, precious };
}

/** A converted folder whose `model.onnx.data` is a link to the real one, moved outside the folder. */
export async function craftedLinkFolder(root: string): Promise<string> {
  const folder = join(root, 'linked');
  await convertCheckpoint(join(repoRoot, 'test/fixtures/model/tiny-safetensors-fp32'), folder, { precision: 'fp32' });
  await mkdir(join(root, 'elsewhere'), { recursive: true });
  const outside = join(root, 'elsewhere', 'model.onnx.data');
  await rename(join(folder, 'model.onnx.data'), outside);
  await symlink(outside, join(folder, 'model.onnx.data'));
  return folder;
}
