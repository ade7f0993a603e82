import { describe, expect, it } from 'vitest';
import { AT_POINT_SQL, MAX_BRANCH_NODES } from '../../../src-main/store/generations';
import { generation, useTempDir } from './helpers';

const tmp = useTempDir();

describe('generations', () => {
  it('store everything about a continuation and give it back unchanged', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't' });
    const input = generation({
      documentId: doc.id,
      contextAfter: '後ろの文脈',
      tokenIds: [0, 1, 44927, 2_147_483_647, -1],
      params: { doSample: true, topK: 500, topP: 0.95, temperature: 1, nested: { badWords: [[0]] } },
      seed: 4_294_967_295,
      timings: { loadMs: 1.5, prefillMs: 20.25, tokensPerSecond: 31.7 },
      finishReason: 'length',
      createdAt: 1234,
    });
    const saved = store.generations.insert(input);
    const { uuid: _u, ...rest } = saved;
    expect(rest).toEqual({ ...input, id: saved.id, altIndex: 0, status: 'proposed', statusChangedAt: null });
    expect(store.generations.get(saved.id)).toEqual(saved);
  });

  it('link alternatives as siblings; accepting one rejects the other proposals', async () => {
    const store = await tmp.open();
    const [a, b, c] = [0, 1, 2].map((i) => store.generations.insert(generation({ groupId: 'grp', altIndex: i, text: `案${i}` })));
    store.generations.insert(generation({ groupId: 'other' }));
    store.generations.setStatus(c!.id, 'rejected', 5);
    const accepted = store.generations.setStatus(b!.id, 'accepted', 10);
    expect(accepted).toMatchObject({ status: 'accepted', statusChangedAt: 10 });
    expect(store.generations.group('grp').map((g) => [g.altIndex, g.status])).toEqual([[0, 'rejected'], [1, 'accepted'], [2, 'rejected']]);
    expect(store.generations.get(a!.id).statusChangedAt).toBe(10);
    expect(store.generations.get(c!.id).statusChangedAt).toBe(5);
    expect(store.generations.setStatus(b!.id, 'edited').status).toBe('edited');
    expect(() => store.generations.setStatus(999, 'accepted')).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('list newest first with keyset pages, filtered by document, status, model and date', async () => {
    const store = await tmp.open();
    const d1 = store.documents.create({ title: 'a' }).id;
    const d2 = store.documents.create({ title: 'b' }).id;
    for (let i = 0; i < 30; i++) {
      store.generations.insert(generation({
        documentId: i % 2 ? d1 : d2,
        modelId: i % 3 ? 'm1' : 'm2',
        status: i % 5 ? 'proposed' : 'accepted',
        createdAt: 1000 + Math.floor(i / 2), // ties on createdAt are broken by id
        text: `t${i}`,
      }));
    }
    const all = store.generations.list({}, 100, null);
    expect(all.map((g) => g.text)).toEqual(Array.from({ length: 30 }, (_, i) => `t${29 - i}`));
    const pages = [];
    for (let cursor = null, page; (page = store.generations.list({}, 7, cursor)).length; cursor = { createdAt: page.at(-1)!.createdAt, id: page.at(-1)!.id }) pages.push(...page);
    expect(pages.map((g) => g.id)).toEqual(all.map((g) => g.id));
    const filter = { documentId: d1, modelId: 'm1', status: 'proposed' as const, from: 1002, to: 1012 };
    const expected = all.filter((g) => g.documentId === d1 && g.modelId === 'm1' && g.status === 'proposed' && g.createdAt >= 1002 && g.createdAt < 1012);
    expect(expected.length).toBeGreaterThan(1);
    expect(store.generations.list(filter, 100, null).map((g) => g.id)).toEqual(expected.map((g) => g.id));
  });

  it('search 1, 2 and 3+ characters, newest first, paged, with filters and highlighted snippets', async () => {
    const store = await tmp.open();
    const texts = ['吾輩は猫である。', '雪国であった。', '猫と雪国。', 'トンネルを抜けると', 'CATS and cats', '猫'];
    const ids = texts.map((text, i) => store.generations.insert(generation({ text, status: i === 2 ? 'accepted' : 'proposed' })).id);
    const find = (q: string, filter = {}) => store.generations.search(q, filter, 10, null).map((h) => texts[ids.indexOf(h.id)]);
    expect(find('猫')).toEqual(['猫', '猫と雪国。', '吾輩は猫である。']);
    expect(find('雪国')).toEqual(['猫と雪国。', '雪国であった。']);
    expect(find('トンネル')).toEqual(['トンネルを抜けると']);
    expect(find('であった')).toEqual(['雪国であった。']);
    expect(find('cat')).toEqual(['CATS and cats']);
    expect(find('c')).toEqual(['CATS and cats']);
    expect(find('猫', { status: 'accepted' })).toEqual(['猫と雪国。']);
    expect(find('犬')).toEqual([]);
    const page1 = store.generations.search('猫', {}, 2, null);
    expect(store.generations.search('猫', {}, 2, page1[1]!.id).map((h) => h.text)).toEqual(['吾輩は猫である。']);
    const hit = store.generations.search('cat', {}, 10, null)[0]!;
    expect(hit.snippet.highlights.map(([s, e]) => hit.snippet.text.slice(s, e))).toEqual(['CAT', 'cat']);
  });

  it('delete removes rows and their index entries', async () => {
    const store = await tmp.open();
    const a = store.generations.insert(generation({ text: '猫が鳴く' }));
    const b = store.generations.insert(generation({ text: '猫が寝る' }));
    expect(store.generations.delete([a.id, 999])).toBe(1);
    expect(store.generations.search('猫', {}, 10, null).map((h) => h.id)).toEqual([b.id]);
    expect(store.generations.search('猫が鳴', {}, 10, null)).toEqual([]);
    expect(store.check().ok).toBe(true);
  });

  it('refuse a generation for a document that does not exist', async () => {
    const store = await tmp.open();
    expect(() => store.generations.insert(generation({ documentId: 42 }))).toThrow(expect.objectContaining({ code: 'not_found' }));
    expect(store.generations.count()).toBe(0);
  });

  it('keep generations when their document is purged', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't' });
    const g = store.generations.insert(generation({ documentId: doc.id }));
    store.documents.trash(doc.id);
    store.documents.purge(doc.id);
    expect(store.generations.get(g.id).documentId).toBeNull();
  });
});

describe('the branches at a point of a document', () => {
  // A long text, so that contexts are its tails as the engine cuts them.
  const story = '国境の長いトンネルを抜けると雪国であった。夜の底が白くなった。信号所に汽車が止まった。'.repeat(4);

  it('are the generations that continued the text there, with those made after one was accepted as its children', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't' }).id;
    const other = store.documents.create({ title: 'u' }).id;
    const at = (contextBefore: string, text: string, overrides = {}) =>
      store.generations.insert(generation({ documentId: doc, contextBefore, text, groupId: text, ...overrides })).id;
    // Three tries at the end of the story: the first with the whole text, the others with a tail of it.
    const first = at(story, '駒子が来た。', { status: 'rejected' });
    const second = at(story.slice(-50), '島村は黙っていた。', { status: 'accepted', seed: 99 });
    const third = at(story.slice(-70), '汽笛が鳴った。', { status: 'rejected', altIndex: 1 });
    // Elsewhere: the same context in another document, an earlier point, and a context whose last 32 characters agree
    // with the story's but not what comes before them.
    at(story.slice(0, -10), '別の場所');
    store.generations.insert(generation({ documentId: other, contextBefore: story, text: '別の文書' }));
    at(`まったく違う話。${story.slice(-40)}`, '似ているだけ');
    // Continuations of the accepted one, and one of them continued again.
    const child = at(`${story}島村は黙っていた。`.slice(-60), 'そして眠った。', { status: 'accepted' });
    const sibling = at(`${story}島村は黙っていた。`.slice(-60), 'それから笑った。');
    const grandchild = at(`${story}島村は黙っていた。そして眠った。`.slice(-80), '朝が来た。');

    const tree = store.generations.branches(doc, story.slice(-100));
    expect(tree.truncated).toBe(false);
    expect(tree.nodes.map((n) => [n.id, n.parentId])).toEqual([
      [first, null],
      [second, null],
      [third, null],
      [child, second],
      [sibling, second],
      [grandchild, child],
    ]);
    expect(tree.nodes[1]).toMatchObject({ text: '島村は黙っていた。', status: 'accepted', seed: 99, groupId: '島村は黙っていた。', altIndex: 0 });
    expect(tree.nodes[2]).toMatchObject({ altIndex: 1, status: 'rejected' });
    // From the point after the accepted text, its continuations are the tree.
    expect(store.generations.branches(doc, `${story}島村は黙っていた。`).nodes.map((n) => n.id)).toEqual([child, sibling, grandchild]);
    expect(store.generations.branches(other, story).nodes.map((n) => n.text)).toEqual(['別の文書']);
    expect(store.generations.branches(doc, 'どこにもない文').nodes).toEqual([]);
  });

  it('at the start of a document are those made from no text', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't' }).id;
    const empty = store.generations.insert(generation({ documentId: doc, contextBefore: '', text: '書き出し' })).id;
    store.generations.insert(generation({ documentId: doc, contextBefore: '書き出し', text: '続き' }));
    expect(store.generations.branches(doc, '').nodes.map((n) => [n.id, n.parentId])).toEqual([[empty, null], [empty + 1, empty]]);
  });

  it('are found through an index and bounded, however many there are', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't' }).id;
    const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${AT_POINT_SQL}`).all(doc, story, 10) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX generations_by_point/);

    store.db.transaction(() => {
      for (let i = 0; i < MAX_BRANCH_NODES + 20; i++) store.generations.insert(generation({ documentId: doc, contextBefore: story, text: `案${i}` }));
    })();
    const tree = store.generations.branches(doc, story);
    expect(tree.nodes).toHaveLength(MAX_BRANCH_NODES);
    expect(tree.truncated).toBe(true);
  });

  it('never loop on a text that repeats itself', async () => {
    const store = await tmp.open();
    const doc = store.documents.create({ title: 't' }).id;
    // Each continues the one before and itself: 'あ' after 'ああ…' is again 'ああ…'.
    for (let i = 0; i < 3; i++) store.generations.insert(generation({ documentId: doc, contextBefore: 'あ'.repeat(40), text: 'あ' }));
    const { nodes } = store.generations.branches(doc, 'あ'.repeat(40));
    expect(nodes.length).toBeLessThanOrEqual(MAX_BRANCH_NODES);
    expect(new Set(nodes.filter((n) => n.parentId === null).map((n) => n.id)).size).toBe(3);
    for (const n of nodes) if (n.parentId !== null) expect(n.id).toBeGreaterThan(n.parentId);
  });
});
