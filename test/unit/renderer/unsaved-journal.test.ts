import { describe, expect, it } from 'vitest';
import { UnsavedJournal, toRestore } from '../../../src-renderer/editor/unsaved-journal';
import { EMPTY_DOCUMENT_AIDS, authorNoteSchema, steeringSchema } from '../../../src-main/contract/document-aids';

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
    const aids = EMPTY_DOCUMENT_AIDS;
    expect(toRestore(journal.read(1), { body: '古い本文', memo: '同じメモ', aids })).toEqual({ body: { text: '新しい本文', generated: [] }, memo: undefined });
    expect(toRestore(journal.read(1), { body: '新しい本文', memo: '同じメモ', aids })).toBeNull();
    for (const junk of ['{', '[]', '{"body":{"text":1}}', '{"memo":5}', '{"body":{"text":"a","generated":[["x"]]}}', '{"aids":{"authorNote":{"depth":-1}}}']) {
      storage.setItem('tsuzuki.unsaved.9', junk);
      expect(journal.read(9)).toBeNull();
    }
  });
});

describe('the journal of a document\'s aids', () => {
  const note = authorNoteSchema.parse({ text: '雪の夜の場面。', depth: 2 });
  const steering = steeringSchema.parse({ bannedPhrases: ['吾輩'] });

  it('keeps each part until a save of exactly that part is acknowledged', () => {
    const journal = new UnsavedJournal(memoryStorage());
    journal.keepAids(4, { authorNote: note });
    journal.keepAids(4, { steering });
    journal.acknowledged(4, { aids: { authorNote: authorNoteSchema.parse({ text: '雪の夜' }) } });
    expect(journal.read(4)?.aids).toEqual({ authorNote: note, steering });
    journal.acknowledged(4, { aids: { authorNote: note } });
    expect(journal.read(4)).toEqual({ aids: { steering } });
    journal.acknowledged(4, { aids: { steering } });
    expect(journal.read(4)).toBeNull();
  });

  it('restores the parts the server does not have, beside the body', () => {
    const journal = new UnsavedJournal(memoryStorage());
    journal.keepBody(5, '本文', []);
    journal.keepAids(5, { authorNote: note, steering });
    const server = { body: '本文', memo: '', aids: { ...EMPTY_DOCUMENT_AIDS, steering } };
    expect(toRestore(journal.read(5), server)).toEqual({ body: undefined, memo: undefined, aids: { authorNote: note } });
    expect(toRestore(journal.read(5), { ...server, aids: { ...server.aids, authorNote: note } })).toBeNull();
  });
});
