import { describe, expect, it } from 'vitest';
import { generation, useTempDir } from './helpers';

const tmp = useTempDir();

const AIDS = {
  authorNote: { text: '冬の夜', depth: 1, unit: 'lines' as const },
  book: { tokenBudget: 100, scanChars: 1000, entries: [{ id: 'e1', name: '島村', keys: ['島村'], regex: false, text: '島村は東京の人。', enabled: true, priority: 0 }] },
};

async function filledStore() {
  const store = await tmp.open('source.db');
  const doc = store.documents.create({ title: '雪国', body: '第一稿', memo: 'メモ', writingMode: 'vertical', createdAt: 1, aids: AIDS });
  store.documents.save(doc.id, '第二稿', 2);
  store.documents.create({ title: '捨てた', body: 'ゴミ箱', deletedAt: 3, createdAt: 3 });
  const g1 = store.generations.insert(generation({ documentId: doc.id, groupId: 'x', text: '猫', createdAt: 5 }));
  store.generations.insert(generation({ documentId: null, groupId: 'y', text: '犬', createdAt: 6, tokenIds: [] }));
  store.generations.setStatus(g1.id, 'accepted', 7);
  store.settings.set('ui', { fontSize: 20 });
  return store;
}

describe('JSONL export and import', () => {
  it('moves everything to another database, and a second import adds nothing', async () => {
    const source = await filledStore();
    const jsonl = [...source.exportAll()].join('\n');
    const target = await tmp.open('target.db');
    expect(target.importJsonl(jsonl, 'export.jsonl')).toEqual({
      documents: { added: 2, updated: 0, unchanged: 0 },
      generations: { added: 2, updated: 0, unchanged: 0 },
      settings: { added: 1, unchanged: 0 },
    });
    const strip = (lines: string[]) => lines.slice(1).map((l) => JSON.parse(l) as unknown);
    expect(strip([...target.exportAll()])).toEqual(strip([...source.exportAll()]));
    expect(target.importJsonl(jsonl, 'export.jsonl')).toEqual({
      documents: { added: 0, updated: 0, unchanged: 2 },
      generations: { added: 0, updated: 0, unchanged: 2 },
      settings: { added: 0, unchanged: 1 },
    });
    expect(target.generations.count()).toBe(2);
    const moved = target.generations.list({}, 10, null).find((g) => g.text === '猫')!;
    expect(target.documents.get(moved.documentId!)).toMatchObject({ title: '雪国', aids: AIDS });
    expect(target.documents.revisions(moved.documentId!).map((r) => r.preview)).toEqual(['第一稿']);
    expect(target.documentSearch.search('第二稿', 10)).toHaveLength(1);
  });

  it('counts an imported revision’s 文字数 by the one rule (ruby readings and line breaks not counted)', async () => {
    const source = await tmp.open('source.db');
    const doc = source.documents.create({ title: '駒子', body: '｜駒子《こまこ》は\n笑った。', createdAt: 1 });
    source.documents.save(doc.id, '書き直した', 2, 'test');
    const target = await tmp.open('target.db');
    target.importJsonl([...source.exportAll()].join('\n'), 'a.jsonl');
    const [moved] = target.documents.list(10, null);
    expect(target.documents.revisions(moved!.id).map((r) => r.charCount)).toEqual([7]);
  });

  it('brings newer text and statuses from the other machine, keeping ours as a revision', async () => {
    const source = await filledStore();
    const target = await tmp.open('target.db');
    target.importJsonl([...source.exportAll()].join('\n'), 'a.jsonl');
    const doc = source.documents.list(10, null)[0]!;
    source.documents.save(doc.id, '第三稿', 100);
    source.documents.setAids(doc.id, { authorNote: { text: '春の朝', depth: 0, unit: 'sentences' } }, 100);
    const g = source.generations.list({}, 10, null).find((x) => x.text === '犬')!;
    source.generations.setStatus(g.id, 'rejected', 101);
    const summary = target.importJsonl([...source.exportAll()].join('\n'), 'b.jsonl');
    expect(summary.documents).toEqual({ added: 0, updated: 1, unchanged: 1 });
    expect(summary.generations).toEqual({ added: 0, updated: 1, unchanged: 1 });
    const local = target.documents.list(10, null)[0]!;
    expect(target.documents.get(local.id)).toMatchObject({ body: '第三稿', aids: { authorNote: { text: '春の朝', depth: 0, unit: 'sentences' }, book: AIDS.book } });
    expect(target.documents.revisions(local.id).map((r) => r.preview)).toContain('第二稿');
  });

  it('imports all or nothing: a bad line, or a failure half-way (disk full), leaves the database as it was', async () => {
    const source = await filledStore();
    for (let i = 0; i < 200; i++) source.generations.insert(generation({ text: '長い続き。'.repeat(200) }));
    const lines = [...source.exportAll()];
    const target = await tmp.open('target.db');
    target.documents.create({ title: 'mine' });
    const counts = () => [target.documents.list(100, null).length, target.generations.count(), target.settings.all().length];
    const before = counts();
    expect(() => target.importJsonl([...lines, '{"type":"generation","uuid":"z"}'].join('\n'), 'bad.jsonl')).toThrow(/bad\.jsonl, line \d+: /);
    expect(() => target.importJsonl([...lines, 'not json'].join('\n'), 'bad.jsonl')).toThrow(/line \d+: not JSON/);
    expect(counts()).toEqual(before);
    const pages = target.db.pragma('page_count', { simple: true }) as number;
    target.db.pragma(`max_page_count = ${pages + 20}`);
    expect(() => target.importJsonl(lines.join('\n'), 'big.jsonl')).toThrow(expect.objectContaining({ code: 'disk_full' }));
    expect(counts()).toEqual(before);
    expect(target.check().ok).toBe(true);
  });

  it('refuses an export from a newer format', async () => {
    const store = await tmp.open();
    expect(() => store.importJsonl('{"type":"tsuzuki-export","version":99}', 'new.jsonl')).toThrow(expect.objectContaining({ code: 'unsupported' }));
  });
});
