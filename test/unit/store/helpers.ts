import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { Store } from '../../../src-main/store/store';

/** A fresh temp folder per test, removed afterwards with every store opened in it. */
export function useTempDir(): { dir: () => string; open: (name?: string) => Promise<Store> } {
  let dir: string | null = null;
  const stores: Store[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });
  const get = () => (dir ??= mkdtempSync(join(tmpdir(), 'tsuzuki-store-')));
  return {
    dir: get,
    open: async (name = 'tsuzuki.db') => {
      const store = await Store.open(join(get(), name));
      stores.push(store);
      return store;
    },
  };
}

export function generation(overrides: Partial<Parameters<Store['generations']['insert']>[0]> = {}): Parameters<Store['generations']['insert']>[0] {
  return {
    documentId: null,
    groupId: 'group-1',
    contextBefore: '国境の長いトンネルを抜けると',
    contextAfter: '',
    text: '雪国であった。',
    tokenIds: [5, 900, 44927],
    params: { doSample: true, topK: 500, topP: 0.95, temperature: 1 },
    seed: 1234,
    modelId: 'rinna/japanese-gpt-1b',
    precision: 'int4',
    device: 'cpu',
    timings: { loadMs: 10, prefillMs: 20, tokensPerSecond: 30 },
    ...overrides,
  };
}
