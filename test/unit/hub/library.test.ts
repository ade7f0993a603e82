import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelLibrary, modelIdFor } from '../../../src-main/model/library/library';
import { craftedLinkFolder, craftedManifestFolder } from '../../helpers/crafted-model';

const FIXTURES = new URL('../../fixtures/model/', import.meta.url).pathname;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsuzuki-library-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('ModelLibrary', () => {
  it('starts empty, and refuses ids that are paths', async () => {
    const library = new ModelLibrary(join(dir, 'models'));
    expect(await library.list()).toEqual([]);
    expect(await library.active()).toBeNull();
    expect(modelIdFor('rinna/japanese-gpt-1b')).toBe('rinna--japanese-gpt-1b');
    expect(() => library.modelDir('../etc')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    await expect(library.get('nothing-here')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('survives a damaged library.json', async () => {
    await mkdir(join(dir, 'models'), { recursive: true });
    await writeFile(join(dir, 'models', 'library.json'), '{"active": {"id": ');
    const library = new ModelLibrary(join(dir, 'models'));
    expect(await library.active()).toBeNull();
    expect(await library.list()).toEqual([]);
  });

  it('imports a Hugging Face folder with a fresh source manifest, refusing other folders', async () => {
    const library = new ModelLibrary(join(dir, 'models'));
    const model = await library.importFolder(join(FIXTURES, 'tiny-safetensors-fp32'));
    expect(model).toMatchObject({ id: 'tiny-safetensors-fp32', repo: null, variants: [], pending: null });
    expect(model.source!.files).toEqual(['config.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
    expect((await library.verify(model.id)).ok).toBe(true);
    await expect(library.importFolder(join(FIXTURES, 'tiny-safetensors-fp32'))).rejects.toMatchObject({ code: 'busy' });
    await expect(library.importFolder(join(FIXTURES, 'files'))).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(library.importFolder(join(dir, 'missing'))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('takes the repo and commit from a Hugging Face cache snapshot path', async () => {
    const snapshot = join(dir, 'hub', 'models--rinna--tiny', 'snapshots', 'd'.repeat(40));
    await cp(join(FIXTURES, 'tiny-pytorch-fp32'), snapshot, { recursive: true });
    const model = await new ModelLibrary(join(dir, 'models')).importFolder(snapshot);
    expect(model).toMatchObject({ id: 'rinna--tiny', repo: 'rinna/tiny' });
    expect(model.source).toMatchObject({ commit: 'd'.repeat(40), files: expect.arrayContaining(['pytorch_model.bin']) });
  });

  it("follows a Hugging Face cache snapshot's links into its blobs/, and no other link out of the folder", async () => {
    const repo = join(dir, 'hub', 'models--rinna--tiny');
    const snapshot = join(repo, 'snapshots', 'e'.repeat(40));
    await cp(join(FIXTURES, 'tiny-safetensors-fp32'), snapshot, { recursive: true });
    await mkdir(join(repo, 'blobs'));
    await rename(join(snapshot, 'model.safetensors'), join(repo, 'blobs', 'weights'));
    await symlink(join('..', '..', 'blobs', 'weights'), join(snapshot, 'model.safetensors'));
    const model = await new ModelLibrary(join(dir, 'models')).importFolder(snapshot);
    expect(model.source!.files).toContain('model.safetensors');

    const plain = join(dir, 'plain');
    await cp(snapshot, plain, { recursive: true, verbatimSymlinks: true });
    await rm(join(plain, 'model.safetensors'));
    await symlink(join(repo, 'blobs', 'weights'), join(plain, 'model.safetensors'));
    await expect(new ModelLibrary(join(dir, 'other')).importFolder(plain)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('outside the folder') });
  });

  it('checks free space before importing, leaving nothing behind', async () => {
    const library = new ModelLibrary(join(dir, 'models'), async () => 1000);
    await expect(library.importFolder(join(FIXTURES, 'tiny-safetensors-fp32'))).rejects.toMatchObject({ code: 'disk_full', message: expect.stringContaining('only 1.00 KB is free') });
    expect(await readdir(join(dir, 'models'))).toEqual([]);
  });

  it('refuses a converted folder whose manifest names a file outside it, writing nothing outside the library', async () => {
    const { folder, victim, precious } = await craftedManifestFolder(dir);
    const library = new ModelLibrary(join(dir, 'models'));
    await expect(library.importFolder(folder)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('"../../../victim.txt" is not a plain file name') });
    expect(await readFile(victim, 'utf8')).toBe(precious);
    expect(await readdir(dir)).toEqual(['in', 'victim.txt']);
  });

  for (const entry of ['/etc/passwd', 'C:evil.dll', 'sub\\..\\..\\x', 'nul\0byte', '..', 'tsuzuki.json', 'verified.json']) {
    it(`refuses the manifest entry ${JSON.stringify(entry)}`, async () => {
      const { folder } = await craftedManifestFolder(dir, entry);
      await expect(new ModelLibrary(join(dir, 'models')).importFolder(folder)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining(JSON.stringify(entry)) });
      expect(await readdir(dir)).toEqual(['in', 'victim.txt']);
    });
  }

  it('refuses a Hugging Face folder whose tsuzuki-source.json names a file outside it', async () => {
    const folder = join(dir, 'checkpoint');
    await cp(join(FIXTURES, 'tiny-safetensors-fp32'), folder, { recursive: true });
    const source = { repo: null, revision: 'local', commit: '', endpoint: null, completedAt: '2026-01-01T00:00:00Z' };
    const files = [{ path: '../../outside.bin', size: 1, algorithm: 'sha256', digest: '0'.repeat(64) }];
    await writeFile(join(folder, 'tsuzuki-source.json'), JSON.stringify({ ...source, files }));
    await expect(new ModelLibrary(join(dir, 'models')).importFolder(folder)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('"../../outside.bin" is not a plain file name') });
  });

  it('refuses a converted folder whose file is a link that leads out of it', async () => {
    const folder = await craftedLinkFolder(dir);
    const library = new ModelLibrary(join(dir, 'models'));
    await expect(library.importFolder(folder)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(/model\.onnx\.data cannot be imported: a link to .*elsewhere.*, outside the folder/) });
    expect(await library.list()).toEqual([]);
  });

  it('refuses a manifest too large to be one before reading it', async () => {
    const folder = join(dir, 'huge');
    await mkdir(folder);
    await writeFile(join(folder, 'tsuzuki.json'), Buffer.alloc(2 << 20, 0x20));
    await expect(new ModelLibrary(join(dir, 'models')).importFolder(folder)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('too large') });
  });
});
