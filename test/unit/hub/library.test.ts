import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelLibrary, modelIdFor } from '../../../src-main/model/library';

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

  it('checks free space before importing, leaving nothing behind', async () => {
    const library = new ModelLibrary(join(dir, 'models'), async () => 1000);
    await expect(library.importFolder(join(FIXTURES, 'tiny-safetensors-fp32'))).rejects.toMatchObject({ code: 'disk_full', message: expect.stringContaining('only 1.00 KB is free') });
    expect(await readdir(join(dir, 'models'))).toEqual([]);
  });
});
