import { describe, expect, it } from 'vitest';
import { EMPTY_DOCUMENT_AIDS } from '../../../src-main/contract/document-aids';
import { MAX_REVISIONS, REVISION_INTERVAL_MS } from '../../../src-main/store/documents';
import { useTempDir } from './helpers';

const tmp = useTempDir();

describe('documents', () => {
  it('create, get, rename; list is recently edited first, paged by keyset', async () => {
    const store = await tmp.open();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(store.documents.create({ title: `doc ${i}`, body: `本文${i}`, createdAt: 1000 + i }).id);
    store.documents.save(ids[1]!, '書き直した', 5000);
    const page1 = store.documents.list(2, null);
    expect(page1.map((d) => d.id)).toEqual([ids[1], ids[4]]);
    const page2 = store.documents.list(2, page1[1]!);
    expect(page2.map((d) => d.id)).toEqual([ids[3], ids[2]]);
    expect(store.documents.list(2, page2[1]!).map((d) => d.id)).toEqual([ids[0]]);
    expect(store.documents.rename(ids[0]!, '新しい題').title).toBe('新しい題');
    expect(store.documents.get(ids[1]!)).toMatchObject({ body: '書き直した', charCount: 5, preview: '書き直した', memo: '', writingMode: 'horizontal' });
    expect(() => store.documents.get(999)).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('remembers which text came from the model, and forgets it when an older revision is restored', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: '吾輩は猫である。', createdAt: 1 });
    expect(doc.generatedRanges).toEqual([]);
    store.documents.save(doc.id, '吾輩は猫である。名前はまだ無い。', 2);
    expect(store.documents.setGeneratedRanges(doc.id, [[8, 12, 7], [12, 16]])).toBe(true);
    expect(store.documents.setGeneratedRanges(doc.id, [[8, 12, 7], [12, 16]])).toBe(false);
    expect(store.documents.get(doc.id).generatedRanges).toEqual([[8, 12, 7], [12, 16]]);
    store.db.prepare("UPDATE documents SET generated_ranges = 'not json' WHERE id = ?").run(doc.id);
    expect(store.documents.get(doc.id).generatedRanges).toEqual([]);
    store.documents.setGeneratedRanges(doc.id, [[8, 16]]);
    const [revision] = store.documents.revisions(doc.id);
    store.documents.restoreRevision(doc.id, revision!.id);
    expect(store.documents.get(doc.id)).toMatchObject({ body: '吾輩は猫である。', generatedRanges: [] });
  });

  it('counts characters by code point and keeps memo and writing mode', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: '😀あ', memo: 'メモ', writingMode: 'vertical' });
    expect(doc).toMatchObject({ charCount: 2, memo: 'メモ', writingMode: 'vertical' });
    expect(store.documents.setMeta(doc.id, { memo: 'メモ' })).toBe(false);
    expect(store.documents.setMeta(doc.id, { writingMode: 'horizontal' })).toBe(true);
    expect(store.documents.get(doc.id)).toMatchObject({ memo: 'メモ', writingMode: 'horizontal' });
  });

  it('keeps the aids with the document: a save replaces the parts it gives, the others stay', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: '駒子は笑った。', createdAt: 1, aids: { authorNote: { text: '雪の匂い', depth: 2, unit: 'sentences' } } });
    expect(doc.aids).toEqual({ ...EMPTY_DOCUMENT_AIDS, authorNote: { text: '雪の匂い', depth: 2, unit: 'sentences' } });
    const book = { tokenBudget: 64, scanChars: 500, entries: [{ id: 'e1', name: '駒子', keys: ['駒子', '^こま.?$'], regex: true, text: '駒子は芸者。', enabled: true, priority: 5 }] };
    expect(store.documents.autosave(doc.id, { aids: { book } }, 5)).toMatchObject({ changed: true, updatedAt: 5 });
    expect(store.documents.autosave(doc.id, { aids: { steering: { bannedPhrases: ['トンネル'], phraseBiases: [] } } }, 6).changed).toBe(true);
    expect(store.documents.get(doc.id).aids).toEqual({
      steering: { bannedPhrases: ['トンネル'], phraseBiases: [] },
      authorNote: { text: '雪の匂い', depth: 2, unit: 'sentences' },
      book,
    });
    expect(store.documents.autosave(doc.id, { aids: { book } }, 7)).toMatchObject({ changed: false, updatedAt: 6 });
  });

  it('reads damaged aids as the defaults, part by part, and never fails to open the document', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: '本文', aids: { authorNote: { text: '脚注', depth: 1, unit: 'lines' } } });
    const set = (json: string) => store.db.prepare('UPDATE documents SET aids = ? WHERE id = ?').run(json, doc.id);
    for (const damaged of ['not json', 'null', '[1,2]', '"x"', '{"authorNote": 5}']) {
      set(damaged);
      expect(store.documents.get(doc.id)).toMatchObject({ body: '本文', aids: EMPTY_DOCUMENT_AIDS });
    }
    // One damaged part (a depth out of bounds) costs only that part.
    set('{"authorNote": {"text": "脚注", "depth": 1, "unit": "lines"}, "book": {"tokenBudget": -1}, "future": true}');
    expect(store.documents.get(doc.id).aids).toEqual({ ...EMPTY_DOCUMENT_AIDS, authorNote: { text: '脚注', depth: 1, unit: 'lines' } });
    // A save over a damaged value writes a whole, valid one.
    store.documents.autosave(doc.id, { aids: { book: { tokenBudget: 10, scanChars: 100, entries: [] } } });
    expect(JSON.parse((store.db.prepare('SELECT aids FROM documents WHERE id = ?').get(doc.id) as { aids: string }).aids)).toEqual({
      ...EMPTY_DOCUMENT_AIDS, authorNote: { text: '脚注', depth: 1, unit: 'lines' }, book: { tokenBudget: 10, scanChars: 100, entries: [] },
    });
  });

  it('trash hides a document from the list and search; restore brings it back; purge only from the trash', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: '猫の話', body: '吾輩は猫である。' });
    store.documents.trash(doc.id, 1234);
    expect(store.documents.list(10, null)).toEqual([]);
    expect(store.documents.listTrash(10, 0).map((d) => [d.id, d.deletedAt])).toEqual([[doc.id, 1234]]);
    expect(store.documentSearch.search('猫', 10)).toEqual([]);
    store.documents.restore(doc.id);
    expect(store.documents.list(10, null).map((d) => d.id)).toEqual([doc.id]);
    expect(() => store.documents.purge(doc.id)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    store.documents.trash(doc.id);
    store.documents.purge(doc.id);
    expect(() => store.documents.get(doc.id)).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(store.db.prepare('SELECT count(*) AS n FROM document_chunks').get()).toEqual({ n: 0 });
  });

  it('an unchanged save writes nothing', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: 'same', createdAt: 10 });
    expect(store.documents.save(doc.id, 'same', 99)).toEqual({ updatedAt: 10, revisionId: null, changed: false });
  });

  it('snapshots the replaced text periodically and on a large change, bounded per document', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: 'a', createdAt: 0 });
    let t = 1;
    // The first save of non-empty text snapshots it; typing within the interval does not.
    expect(store.documents.save(doc.id, 'ab', t++).revisionId).not.toBeNull();
    expect(store.documents.save(doc.id, 'abc', t++).revisionId).toBeNull();
    expect(store.documents.save(doc.id, 'abcd', REVISION_INTERVAL_MS + 10).revisionId).not.toBeNull();
    // Select-all + paste: the old text is kept even within the interval.
    const long = '長い原稿。'.repeat(400);
    store.documents.save(doc.id, long, REVISION_INTERVAL_MS + 20);
    const overwrite = store.documents.save(doc.id, '上書き', REVISION_INTERVAL_MS + 30);
    expect(overwrite.revisionId).not.toBeNull();
    expect(store.documents.revision(overwrite.revisionId!)).toMatchObject({ body: long, reason: 'large-change', createdAt: REVISION_INTERVAL_MS + 20 });

    for (let i = 0; i < MAX_REVISIONS + 10; i++) store.documents.save(doc.id, `版${i}`, REVISION_INTERVAL_MS * (i + 3));
    const revisions = store.documents.revisions(doc.id);
    expect(revisions).toHaveLength(MAX_REVISIONS);
    expect(revisions[0]!.preview).toBe(`版${MAX_REVISIONS + 8}`);
  });

  it('restores a revision, and the text it replaced becomes a revision', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't', body: '第一稿', createdAt: 0 });
    const { revisionId } = store.documents.save(doc.id, '第二稿', 100);
    const restored = store.documents.restoreRevision(doc.id, revisionId!, 200);
    expect(restored.body).toBe('第一稿');
    expect(store.documents.revisions(doc.id).map((r) => [r.preview, r.reason])).toEqual([['第二稿', 'before-restore'], ['第一稿', 'periodic']]);
    expect(store.documentSearch.search('第二稿', 10)).toEqual([]);
    expect(store.documentSearch.search('第一稿', 10).map((h) => h.documentId)).toEqual([doc.id]);
    const other = store.documents.create({ title: 'o' });
    expect(() => store.documents.restoreRevision(other.id, revisionId!)).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('finds Japanese text of any length in titles and bodies, with highlighted snippets', async () => {
    const store = await tmp.open();
    const a = store.documents.create({ title: '雪国', body: '国境の長いトンネルを抜けると雪国であった。夜の底が白くなった。', createdAt: 1 });
    const b = store.documents.create({ title: '吾輩', body: '吾輩は猫である。名前はまだ無い。', createdAt: 2 });
    const c = store.documents.create({ title: 'Cats', body: 'The CAT sat on the mat.\n'.repeat(200) + '最後の行に猫。', createdAt: 3 });
    expect(store.documentSearch.search('猫', 10).map((h) => h.documentId)).toEqual([c.id, b.id]);
    expect(store.documentSearch.search('雪国', 10).map((h) => h.documentId)).toEqual([a.id]);
    expect(store.documentSearch.search('トンネル', 10).map((h) => h.documentId)).toEqual([a.id]);
    expect(store.documentSearch.search('吾輩', 10).map((h) => h.documentId)).toEqual([b.id]);
    expect(store.documentSearch.search('cat', 10).map((h) => h.documentId)).toEqual([c.id]);
    expect(store.documentSearch.search('存在しない', 10)).toEqual([]);
    const hit = store.documentSearch.search('雪国', 10)[0]!;
    expect(hit.snippet.highlights.map(([s, e]) => hit.snippet.text.slice(s, e))).toEqual(['雪国']);
    const deep = store.documentSearch.search('最後の行', 10)[0]!;
    expect(deep.snippet.highlights.map(([s, e]) => deep.snippet.text.slice(s, e))).toEqual(['最後の行']);
  });

  it('keeps the search index in step with edits, rewriting only changed chunks', async () => {
    const store = await tmp.open();
    const paragraphs = Array.from({ length: 400 }, (_, i) => `段落${i}。${'本文が続きます。'.repeat(12)}\n`);
    const doc = store.documents.create({ title: 't', body: paragraphs.join('') });
    const chunkIds = () => {
      store.documentSearch.indexAll();
      return new Set(store.db.prepare('SELECT id FROM document_chunks WHERE document_id = ?').pluck().all(doc.id) as number[]);
    };
    const before = chunkIds();
    expect(before.size).toBeGreaterThan(10);
    paragraphs[200] = '段落二百は書き換えられた。海豚が泳ぐ。\n';
    store.documents.save(doc.id, paragraphs.join(''));
    const after = chunkIds();
    expect([...after].filter((id) => !before.has(id)).length).toBeLessThanOrEqual(2);
    expect(store.documentSearch.search('海豚', 10).map((h) => h.documentId)).toEqual([doc.id]);
    expect(store.documentSearch.search('段落200', 10)).toEqual([]);
    expect(store.check().ok).toBe(true);
    // The text is stored as those chunks: read back from the file it is exactly what was saved.
    store.close();
    const reopened = await tmp.open();
    expect(reopened.documents.get(doc.id).body).toBe(paragraphs.join(''));
  });

  it('indexes in the background shortly after a save, in small steps', async () => {
    const store = await tmp.open();
    const queued = () => store.db.prepare('SELECT count(*) FROM document_index_queue').pluck().get();
    const doc = store.documents.create({ title: 't', body: '最初の文章。\n'.repeat(3000) });
    store.documents.save(doc.id, '書き直した文章。\n'.repeat(3000));
    expect(queued()).toBe(1);
    // One step indexes one chunk: the document stays queued until every changed chunk is done.
    expect(store.documentSearch.indexStep(0)).toBe(true);
    expect(queued()).toBe(1);
    await expect.poll(queued, { timeout: 10_000, interval: 50 }).toBe(0);
    const stored = store.db.prepare('SELECT body FROM document_chunks_fts f JOIN document_chunks c ON c.id = f.rowid WHERE c.document_id = ? AND c.live = 1').pluck().all(doc.id) as string[];
    expect(stored.sort().join('').length).toBe('書き直した文章。\n'.repeat(3000).length);
    expect(store.documentSearch.search('最初', 10)).toEqual([]);
  });

  it('stores SQL-looking strings, quotes and FTS5 syntax as plain text', async () => {
    const store = await tmp.open();
    const evil = `'); DROP TABLE documents; -- "x" OR NEAR(a b) * ^ :`;
    const doc = store.documents.create({ title: evil, body: evil });
    expect(store.documents.get(doc.id)).toMatchObject({ title: evil, body: evil });
    expect(store.documentSearch.search(evil, 10).map((h) => h.documentId)).toEqual([doc.id]);
    expect(store.documentSearch.search('" OR', 10).map((h) => h.documentId)).toEqual([doc.id]);
    expect(store.documentSearch.search('*', 10).map((h) => h.documentId)).toEqual([doc.id]);
  });
});

describe('documents with broken UTF-16', () => {
  const tmp2 = useTempDir();
  it('store a lone surrogate as U+FFFD, the same in memory and in the file', async () => {
    const store = await tmp2.open();
    const doc = store.documents.create({ title: 't', body: 'a\ud83db' });
    expect(store.documents.get(doc.id).body).toBe('a\ufffdb');
    store.documents.save(doc.id, 'a\ud83db\udc00c😀');
    expect(store.documents.get(doc.id).body).toBe('a\ufffdb\ufffdc😀');
    store.close();
    expect((await tmp2.open()).documents.get(doc.id).body).toBe('a\ufffdb\ufffdc😀');
  });
});

describe('the background indexer', () => {
  const tmp3 = useTempDir();
  it('recovers from a failed step (disk full) without skipping a chunk', async () => {
    const store = await tmp3.open();
    const text = Array.from({ length: 300 }, (_, i) => `段落${i}。${'文章が続く。'.repeat(20)}\n`).join('');
    const doc = store.documents.create({ title: 't', body: text });
    store.documentSearch.indexStep(0);
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages}`);
    let failed = false;
    for (let i = 0; i < 200 && !failed; i++) {
      try {
        store.documentSearch.indexStep(0);
      } catch {
        failed = true;
      }
    }
    expect(failed).toBe(true);
    store.db.pragma('max_page_count = 1073741823');
    store.documentSearch.indexAll();
    expect(store.db.prepare('SELECT count(*) FROM document_chunks WHERE document_id = ? AND indexed = 0').pluck().get(doc.id)).toBe(0);
    expect(store.documentSearch.search('段落299', 10).map((h) => h.documentId)).toEqual([doc.id]);
    expect(store.documentSearch.search('段落0。', 10).map((h) => h.documentId)).toEqual([doc.id]);
  });
});
