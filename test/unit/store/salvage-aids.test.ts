import { describe, expect, it } from 'vitest';
import { EMPTY_DOCUMENT_AIDS } from '../../../src-main/contract/document-aids';
import { readSalvage } from '../../../src-main/store/salvage';
import { useTempDir } from './helpers';

const tmp = useTempDir();

describe('salvage of the documents’ aids', () => {
  it('carries each document’s aids; damaged ones read as the defaults and never cost the document', async () => {
    const store = await tmp.open();
    const authorNote = { text: '雪の夜', depth: 2, unit: 'sentences' as const };
    const kept = store.documents.create({ title: '雪国', body: '国境の長いトンネル', aids: { authorNote } });
    const damaged = store.documents.create({ title: '伊豆', body: '道がつづら折りになって', aids: { authorNote } });
    store.db.prepare("UPDATE documents SET aids = '{not json' WHERE id = ?").run(damaged.id);
    const path = store.path;
    store.close();

    const { records } = readSalvage(path);
    const documents = new Map(records.flatMap((r) => (r.type === 'document' ? [[r.uuid, r] as const] : [])));
    expect(documents.get(kept.uuid)).toMatchObject({ body: '国境の長いトンネル', aids: { ...EMPTY_DOCUMENT_AIDS, authorNote } });
    expect(documents.get(damaged.uuid)).toMatchObject({ body: '道がつづら折りになって', aids: EMPTY_DOCUMENT_AIDS });
  });
});
