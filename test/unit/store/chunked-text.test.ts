import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countChars } from '../../../src-main/manuscript/counts';
import { chunkText } from '../../../src-main/store/chunks';
import { DocumentsRepo } from '../../../src-main/store/documents';
import { useTempDir } from './helpers';

const tmp = useTempDir();

const piece = fc.oneof(
  // Ruby notation and its pieces: an edit can complete, break or straddle a notation, which changes the 文字数 of
  // text it did not touch.
  fc.constantFrom('\n', '。', '猫', '雪国', 'トンネル', '😀', 'a', ' ', '\n\n', '《', '》', '｜', '漢字《かんじ》', '｜雪《ゆき'),
  fc.string({ unit: fc.constantFrom('あ', 'い', '。', '\n', '字', 'x'), maxLength: 300 }),
  fc.constantFrom('長い段落。'.repeat(900), '改行なしの文'.repeat(800)),
);
const edit = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), remove: fc.nat({ max: 3000 }), insert: fc.array(piece, { maxLength: 5 }).map((p) => p.join('')) });

describe('documents stored as chunks', () => {
  it('after any sequence of edits: the stored chunks are exactly the text, cut as chunkText cuts it, and the index agrees', async () => {
    const store = await tmp.open();
    const base = Array.from({ length: 120 }, (_, i) => `第${i}段落。${'本文が続きます。'.repeat(5 + (i % 9))}\n`).join('');
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 12 }), async (edits) => {
        const doc = store.documents.create({ title: 't', body: base });
        let text = base;
        const revisions = new Map<number, string>();
        for (const [i, e] of edits.entries()) {
          const at = Math.floor(e.at * text.length);
          const before = text;
          // An edit may cut an emoji in half; the store keeps U+FFFD for the lone half (as SQLite would).
          text = (text.slice(0, at) + e.insert + text.slice(Math.min(text.length, at + e.remove))).replace(/[\ud800-\udfff]/gu, '\ufffd');
          // Every other save snapshots the text it replaces (as the periodic and large-change rules do).
          const { revisionId } = store.documents.save(doc.id, text, Date.now(), i % 2 ? 'test' : undefined);
          if (revisionId !== null) revisions.set(revisionId, before);
          // A fresh repository has no cached layout: it reads the chunks back from the file.
          expect(new DocumentsRepo(store.db).get(doc.id).body).toBe(text);
          expect(store.documents.summary(doc.id).charCount).toBe(countChars(text));
          if (i % 3 === 0) store.documentSearch.indexStep(0);
        }
        const stored = store.db.prepare('SELECT chunk_ids FROM documents WHERE id = ?').pluck().get(doc.id) as string;
        const texts = stored ? stored.split(',').map((id) => store.db.prepare('SELECT body FROM document_chunk_texts WHERE chunk_id = ?').pluck().get(Number(id)) as string) : [];
        expect(texts).toEqual(chunkText(text).map((c) => c.body));
        store.documentSearch.indexAll();
        const count = (where: string) => store.db.prepare(`SELECT count(*) FROM document_chunks c WHERE c.document_id = ? AND ${where}`).pluck().get(doc.id);
        expect(count('live = 1 AND indexed = 0')).toBe(0);
        expect(count('live = 0 AND indexed = 1')).toBe(0);
        // Retired chunks stay only while a revision needs them.
        expect(count('live = 0 AND NOT EXISTS (SELECT 1 FROM revision_chunks r WHERE r.chunk_id = c.id)')).toBe(0);
        expect(count('live = 1')).toBe(texts.length);
        for (const [revisionId, body] of revisions) expect(store.documents.revision(revisionId).body).toBe(body);
      }),
      { numRuns: 40 },
    );
    expect(store.check().ok).toBe(true);
  });

  it('counts 文字数 again over whole lines: an edit that completes or breaks a ruby notation changes the count around it', async () => {
    const store = await tmp.open();
    const lines = (last: string) => `${'前の段落。\n'.repeat(50)}彼は｜小鳥遊《たかなし${last}と名乗った。\n${'後の段落。\n'.repeat(50)}`;
    const doc = store.documents.create({ title: 't', body: lines('') });
    expect(doc.charCount).toBe(countChars(lines('')));
    for (const last of ['》', '', '》》', 'る》']) {
      store.documents.save(doc.id, lines(last));
      expect(store.documents.summary(doc.id).charCount).toBe(countChars(lines(last)));
    }
    expect(store.documents.summary(doc.id).charCount).toBe(50 * 5 + 50 * 5 + '彼は小鳥遊と名乗った。'.length);
  });

  it('revisions share chunks: fifty snapshots of a long text cost little, and pruned ones free their chunks', async () => {
    const store = await tmp.open();
    const paragraphs = Array.from({ length: 1000 }, (_, i) => `第${i}段落。${'本文が続きます。'.repeat(10)}\n`);
    const doc = store.documents.create({ title: 't', body: paragraphs.join('') });
    const expected = new Map<number, string>();
    for (let i = 0; i < 70; i++) {
      const before = paragraphs.join('');
      paragraphs[(i * 37) % paragraphs.length] = `書き換え${i}。\n`;
      const { revisionId } = store.documents.save(doc.id, paragraphs.join(''), Date.now(), 'test');
      expected.set(revisionId!, before);
    }
    store.documentSearch.indexAll();
    const kept = store.documents.revisions(doc.id);
    expect(kept).toHaveLength(50);
    for (const r of kept) expect(store.documents.revision(r.id).body).toBe(expected.get(r.id));
    const chunks = store.db.prepare('SELECT count(*) FROM document_chunks WHERE document_id = ?').pluck().get(doc.id) as number;
    const live = store.db.prepare('SELECT count(*) FROM document_chunks WHERE document_id = ? AND live = 1').pluck().get(doc.id) as number;
    // 50 copies of the text would be 50 × live chunks; shared, it is the live ones plus one or two per revision.
    expect(chunks).toBeLessThan(live + 50 * 3);
    store.documents.trash(doc.id);
    store.documents.purge(doc.id);
    expect(store.db.prepare('SELECT count(*) FROM document_chunks').pluck().get()).toBe(0);
    expect(store.db.prepare('SELECT count(*) FROM revision_chunks').pluck().get()).toBe(0);
    expect(store.check().ok).toBe(true);
  });

  it('an autosave after typing writes one or two chunks, whatever the document length', async () => {
    const store = await tmp.open();
    const text = Array.from({ length: 2000 }, (_, i) => `第${i}段落。${'本文が続きます。'.repeat(10)}\n`).join('');
    const doc = store.documents.create({ title: 't', body: text });
    const ids = () => new Set((store.db.prepare('SELECT chunk_ids FROM documents WHERE id = ?').pluck().get(doc.id) as string).split(','));
    for (const at of [0, 1000, text.length / 2, text.length - 5, text.length]) {
      const before = ids();
      const current = store.documents.get(doc.id).body;
      store.documents.save(doc.id, current.slice(0, at) + '猫が' + current.slice(at));
      expect([...ids()].filter((id) => !before.has(id)).length).toBeLessThanOrEqual(2);
      expect(before.size).toBeGreaterThan(100);
    }
  });
});
