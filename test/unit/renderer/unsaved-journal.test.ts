import { describe, expect, it } from 'vitest';
import { UnsavedJournal, toRestore } from '../../../src-renderer/editor/unsaved-journal';

/** The Web Storage interface over a Map: what localStorage does within one page, without a browser. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, String(value)),
  };
}

describe('the unsaved-text journal', () => {
  it('keeps text typed during a save when the older text is acknowledged', () => {
    const journal = new UnsavedJournal(memoryStorage());
    journal.keepBody(1, '一行目。', []);
    journal.keepBody(1, '一行目。二行目。', [[4, 8, 3]]);
    journal.acknowledged(1, { body: '一行目。' });
    expect(journal.read(1)).toEqual({ body: { text: '一行目。二行目。', generated: [[4, 8, 3]] } });
    journal.acknowledged(1, { body: '一行目。二行目。' });
    expect(journal.read(1)).toBeNull();
  });

  it('drops the body and the memo separately, each on its own acknowledgement', () => {
    const journal = new UnsavedJournal(memoryStorage());
    journal.keepBody(2, '本文', []);
    journal.keepMemo(2, 'メモ');
    journal.acknowledged(2, { memo: 'メモ' });
    expect(journal.read(2)).toEqual({ body: { text: '本文', generated: [] } });
    expect(journal.read(3)).toBeNull();
  });

  it('restores only what differs from the server, and ignores storage that is not an entry', () => {
    const storage = memoryStorage();
    const journal = new UnsavedJournal(storage);
    journal.keepBody(1, '新しい本文', []);
    journal.keepMemo(1, '同じメモ');
    expect(toRestore(journal.read(1), { body: '古い本文', memo: '同じメモ' })).toEqual({ body: { text: '新しい本文', generated: [] }, memo: undefined });
    expect(toRestore(journal.read(1), { body: '新しい本文', memo: '同じメモ' })).toBeNull();
    for (const junk of ['{', '[]', '{"body":{"text":1}}', '{"memo":5}', '{"body":{"text":"a","generated":[["x"]]}}']) {
      storage.setItem('tsuzuki.unsaved.9', junk);
      expect(journal.read(9)).toBeNull();
    }
  });
});
