import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDigester, digestFromHex } from '../../../src-main/model/format/checksum';
import { hfCacheDirs, repoCacheFolder } from '../../../src-main/model/hub/hf-cache';
import { checkRepoId, selectModelFiles, type RepoSnapshot } from '../../../src-main/model/hub/client';

function snapshot(names: string[]): RepoSnapshot {
  return { repo: 'rinna/japanese-gpt-1b', revision: 'main', commit: 'c'.repeat(40), files: names.map((path) => ({ path, size: 1, digest: null })) };
}

const noIndex = async () => {
  throw new Error('index must not be read');
};

describe('selectModelFiles', () => {
  const rinna = ['.gitattributes', 'README.md', 'config.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'pytorch_model.bin', 'model.safetensors', 'rinna.png'];

  it('takes the configs that exist and one weight file, preferring safetensors', async () => {
    expect(await selectModelFiles(snapshot(rinna), noIndex)).toEqual(['config.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
  });

  it('falls back to pytorch_model.bin, and skips configs that are not there', async () => {
    expect(await selectModelFiles(snapshot(['config.json', 'spiece.model', 'pytorch_model.bin', 'tf_model.h5']), noIndex)).toEqual(['config.json', 'spiece.model', 'pytorch_model.bin']);
  });

  it('takes a sharded safetensors index with exactly the shards it names', async () => {
    const names = ['config.json', 'spiece.model', 'model.safetensors.index.json', 'model-00002-of-00002.safetensors', 'model-00001-of-00002.safetensors', 'pytorch_model.bin'];
    const index = JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } });
    expect(await selectModelFiles(snapshot(names), async (p) => (p === 'model.safetensors.index.json' ? index : ''))).toEqual([
      'config.json',
      'spiece.model',
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    const evil = JSON.stringify({ weight_map: { a: '../../etc/passwd' } });
    await expect(selectModelFiles(snapshot(names), async () => evil)).rejects.toMatchObject({ code: 'corrupt_file' });
  });

  it('refuses repos without config, tokenizer or weights, saying what is missing', async () => {
    await expect(selectModelFiles(snapshot(['spiece.model', 'model.safetensors']), noIndex)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('config.json') });
    await expect(selectModelFiles(snapshot(['config.json', 'vocab.json', 'merges.txt', 'model.safetensors']), noIndex)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('spiece.model') });
    await expect(selectModelFiles(snapshot(['config.json', 'spiece.model', 'tf_model.h5']), noIndex)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('pytorch_model.bin') });
  });
});

describe('checksums', () => {
  it("computes git's blob sha1 for small files, as the hub lists them", () => {
    // `printf 'hello\n' | git hash-object --stdin`
    expect(createDigester('git-sha1', 6).update('hello\n').digest('hex')).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(createDigester('sha256', 6).update('hello\n').digest('hex')).toBe(createHash('sha256').update('hello\n').digest('hex'));
  });

  it('tells sha256 and git sha1 apart by length, and accepts quoted ETags', () => {
    expect(digestFromHex(`"${'A'.repeat(64)}"`)).toEqual({ algorithm: 'sha256', value: 'a'.repeat(64) });
    expect(digestFromHex('b'.repeat(40))).toEqual({ algorithm: 'git-sha1', value: 'b'.repeat(40) });
    expect(digestFromHex('W/"abc"')).toBeNull();
  });
});

describe('Hugging Face cache location', () => {
  it('follows HF_HUB_CACHE, then HF_HOME, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(hfCacheDirs({ HF_HUB_CACHE: '/a', HF_HOME: '/b', XDG_CACHE_HOME: '/c' })).toEqual(['/a', join('/b', 'hub'), join('/c', 'huggingface', 'hub'), join(homedir(), '.cache', 'huggingface', 'hub')]);
    expect(hfCacheDirs({})).toEqual([join(homedir(), '.cache', 'huggingface', 'hub')]);
    expect(repoCacheFolder('/x', 'rinna/japanese-gpt-1b')).toBe(join('/x', 'models--rinna--japanese-gpt-1b'));
  });
});

describe('repo ids', () => {
  it('accepts org/name and single names, refuses paths and URLs', () => {
    for (const ok of ['rinna/japanese-gpt-1b', 'gpt2', 'rinna/japanese-gpt2-medium', 'a.b/c_d']) expect(() => checkRepoId(ok)).not.toThrow();
    for (const bad of ['../x', 'a/b/c', 'https://huggingface.co/rinna/x', '', 'a/..', '/abs']) expect(() => checkRepoId(bad)).toThrow(/not a Hugging Face repo id/);
  });
});
