import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract, type Result } from '../../../src-main/contract/contract';
import { createRouter, type CallContext } from '../../../src-main/ipc/router';
import { GenerationService } from '../../../src-main/services/generation';
import { createHandlers } from '../../../src-main/services/handlers';
import { storeHistory } from '../../../src-main/services/generation-history';
import { SettingsService } from '../../../src-main/services/settings';
import { createStoreHandlers } from '../../../src-main/services/store-handlers';
import { Store } from '../../../src-main/store/store';
import { convertTiny, type TinyModel } from './tiny-model';

type Event = { event: string; payload: Record<string, unknown> };

let model: TinyModel;
let dbDir: string;
let store: Store;
let service: GenerationService;

beforeAll(async () => {
  model = await convertTiny();
  dbDir = await mkdtemp(join(tmpdir(), 'tsuzuki-gen-db-'));
  store = await Store.open(join(dbDir, 'tsuzuki.db'));
  service = new GenerationService({ model: () => ({ id: 'tiny', dir: model.dir, device: 'cpu', threads: 1 }), ...inStore(store) });
});
afterAll(async () => {
  await service?.dispose();
  store?.close();
  await model?.dispose();
  await rm(dbDir, { recursive: true, force: true });
});

/** History and presets from the test's Store, in this thread (the app has them in the database worker). */
const inStore = (s: Store) => ({
  history: storeHistory(s),
  presetParams: () => new SettingsService(s).activeSampling(),
  globalSteering: () => new SettingsService(s).get().steering,
});

const before = '今日は天気が良いので、公園まで散歩に出かけた。道の両側には桜の木が並んでいて';

/** A caller over the real router: collects its events, and can wait for the end of a request. */
function caller(gen: GenerationService | null = service) {
  const router = createRouter(contract, createHandlers({ store: createStoreHandlers({ store }), ...(gen ? { generation: gen } : {}) }));
  const events: Event[] = [];
  const waiters = new Map<string, (e: Event) => void>();
  const lifetime = new AbortController();
  const ctx: CallContext<typeof contract> = {
    signal: lifetime.signal,
    emit(event, payload) {
      const e = { event, payload: router.checkEvent(event, payload) as Record<string, unknown> };
      events.push(e);
      if (event === 'generation.done' || event === 'generation.error') waiters.get(e.payload.requestId as string)?.(e);
    },
  };
  const call = (channel: string, payload: unknown) => router.dispatch(channel, payload, ctx) as Promise<Result<Record<string, unknown>>>;
  const start = async (payload: Record<string, unknown>) => {
    const r = await call('generation.start', payload);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    const requestId = r.value.requestId as string;
    // The end may already have been emitted (an error right away).
    const ended = events.find((e) => (e.event === 'generation.done' || e.event === 'generation.error') && e.payload.requestId === requestId);
    const end = ended ? Promise.resolve(ended) : new Promise<Event>((resolve) => waiters.set(requestId, resolve));
    return { requestId, end };
  };
  return { call, start, events, lifetime };
}

describe('generation service over the IPC router', () => {
  it('streams deltas that add up to the text, then done, and stores the generation as proposed', async () => {
    const c = caller();
    const { requestId, end } = await start(c, { before, params: { maxNewTokens: 12, seed: 5, numAlternatives: 2 }, after: '続き' });
    const done = (await end).payload as {
      alternatives: { index: number; text: string; generationId: number; finishReason: string }[];
      seed: number;
      device: string;
      positions: number;
      stats: Record<string, number>;
    };
    expect(done.seed).toBe(5);
    expect(done.device).toBe('cpu');
    expect(done.positions).toBe(model.session.manifest.architecture.nPositions);
    expect(done.alternatives).toHaveLength(2);
    for (const alt of done.alternatives) {
      const streamed = c.events
        .filter((e) => e.event === 'generation.delta' && e.payload.requestId === requestId && e.payload.index === alt.index)
        .map((e) => e.payload.text)
        .join('');
      expect(streamed).toBe(alt.text);
      const record = store.generations.get(alt.generationId);
      expect(record).toMatchObject({ status: 'proposed', text: alt.text, seed: 5, modelId: 'tiny', device: 'cpu', altIndex: alt.index, contextAfter: '続き', groupId: requestId });
      expect(record.params).toMatchObject({ maxNewTokens: 12, topK: 500, topP: 0.95, seed: 5, numAlternatives: 2 });
      expect(record.contextBefore).toBe(before);
      expect(record.timings.promptTokens).toBe(done.stats.promptTokens);
    }
  });

  it('token probabilities come with the deltas only when asked for, one shown token per offset of the text', async () => {
    const c = caller();
    const deltas = async (payload: Record<string, unknown>) => {
      const { requestId, end } = await start(c, { before, params: { maxNewTokens: 12, seed: 9 }, ...payload });
      const done = (await end).payload as { alternatives: { text: string }[] };
      return { text: done.alternatives[0]!.text, deltas: c.events.filter((e) => e.event === 'generation.delta' && e.payload.requestId === requestId).map((e) => e.payload) };
    };
    const off = await deltas({});
    expect(off.deltas.length).toBeGreaterThan(0);
    for (const d of off.deltas) expect(Object.keys(d).sort()).toEqual(['index', 'requestId', 'text']);

    const on = await deltas({ tokenProbabilities: true });
    expect(on.text).toBe(off.text);
    const tokens = on.deltas.flatMap((d) => d.tokens as { at: number; chosen: number; candidates: { text: string; special: boolean; p: number; raw: number }[] }[]);
    expect(tokens[0]!.at).toBe(0);
    for (const [i, token] of tokens.entries()) {
      if (i > 0) expect(token.at).toBeGreaterThan(tokens[i - 1]!.at);
      const shown = on.text.slice(token.at, tokens[i + 1]?.at ?? on.text.length);
      // The chosen candidate writes the shown text (a first ▁ after the context's letters is a space the decoder keeps).
      if (!token.candidates[token.chosen]!.special) expect(shown).toBe(token.candidates[token.chosen]!.text);
    }
  });

  it('without sampling, one alternative whatever the count asked (each would be the same text), and stored as one', async () => {
    const c = caller();
    const done = (await (await start(c, { before, params: { maxNewTokens: 4, doSample: false, numAlternatives: 3 } })).end).payload as {
      alternatives: { generationId: number }[];
    };
    expect(done.alternatives).toHaveLength(1);
    expect(store.generations.get(done.alternatives[0]!.generationId).params).toMatchObject({ doSample: false, numAlternatives: 1 });
  });

  it('parameters left out come from the active sampling preset', async () => {
    const settings = new SettingsService(store);
    const sampling = settings.get().sampling;
    settings.set({ sampling: { ...sampling, activePresetId: 'steady' } });
    try {
      const c = caller();
      const done = (await (await start(c, { before, params: { maxNewTokens: 4, seed: 3 } })).end).payload as { alternatives: { generationId: number }[] };
      const steady = sampling.presets.find((p) => p.id === 'steady')!.params;
      expect(store.generations.get(done.alternatives[0]!.generationId).params).toMatchObject({
        topK: steady.topK,
        topP: steady.topP,
        temperature: steady.temperature,
        repetitionPenalty: steady.repetitionPenalty,
        maxNewTokens: 4,
      });
    } finally {
      settings.set({ sampling });
    }
  });

  it("banned phrases of the settings and of the request both hold, and are stored with the generation's parameters", async () => {
    const settings = new SettingsService(store);
    const c = caller();
    const payload = { before, params: { maxNewTokens: 30, seed: 21, topK: 0 } };
    const textOf = async (extra: Record<string, unknown> = {}) => {
      const done = (await (await start(c, { ...payload, ...extra })).end).payload as { alternatives: { text: string; generationId: number }[] };
      return done.alternatives[0]!;
    };
    const free = await textOf();
    const chars = Array.from(free.text.replace(/\s/gu, ''));
    const [global, own] = [chars.slice(1, 3).join(''), chars.slice(5, 7).join('')];
    expect(free.text).toContain(global);
    expect(free.text).toContain(own);
    settings.set({ steering: { bannedPhrases: [global], phraseBiases: [{ phrase: 'ファイル', bias: 2 }] } });
    try {
      const steered = await textOf({ steering: { bannedPhrases: [own], phraseBiases: [{ phrase: 'ファイル', bias: -3 }] } });
      expect(steered.text).not.toContain(global);
      expect(steered.text).not.toContain(own);
      expect(store.generations.get(steered.generationId).params).toMatchObject({
        steering: { bannedPhrases: [global, own], phraseBiases: [{ phrase: 'ファイル', bias: -3 }] },
        allowSpecialTokens: false,
      });
    } finally {
      settings.set({ steering: { bannedPhrases: [], phraseBiases: [] } });
    }
  });

  it('the same seed gives the same text; prefill makes the next start reuse the whole prompt', async () => {
    const c = caller();
    const params = { maxNewTokens: 10, seed: 77 };
    const a = (await (await start(c, { before, params })).end).payload as { alternatives: { text: string }[] };
    const prefill = await c.call('generation.prefill', { before: before + '、', maxNewTokens: 10 });
    expect(prefill.ok).toBe(true);
    const b = (await (await start(c, { before: before + '、', params })).end).payload as { stats: Record<string, number> };
    expect(b.stats.prefillTokens).toBe(0);
    expect(b.stats.reusedTokens).toBe(b.stats.promptTokens);
    const again = (await (await start(c, { before, params })).end).payload as { alternatives: { text: string }[] };
    expect(again.alternatives[0]!.text).toBe(a.alternatives[0]!.text);
  });

  it("the author's note and the book: the next context as the viewer asks for it is the one the start reads, and prefill fills exactly it", async () => {
    const c = caller();
    const aids = {
      memo: '春の話',
      authorNote: { text: '［明るく］', depth: 1, unit: 'sentences' },
      book: { entries: [{ id: 'p', name: '公園', keys: ['公園'], text: '公園には池がある。' }, { id: 'x', name: '海', keys: ['海'], text: '海は遠い。' }] },
    };
    const params = { maxNewTokens: 10, seed: 78 };
    const next = await c.call('generation.context', { before, ...aids, maxNewTokens: 10 });
    if (!next.ok) throw new Error(next.error.message);
    const parts = next.value.parts as { kind: string; text: string; tokens: number; name?: string }[];
    expect(parts.map((p) => p.name ?? p.kind)).toEqual(['memo', '公園', 'text', 'authorNote', 'text']);
    expect(parts.map((p) => p.text).join('')).toBe('春の話\n公園には池がある。\n今日は天気が良いので、公園まで散歩に出かけた。\n［明るく］\n道の両側には桜の木が並んでいて');
    expect(parts.every((p) => p.tokens > 0)).toBe(true);
    expect(next.value).toMatchObject({ maxNewTokens: 10, positions: expect.any(Number) });

    expect((await c.call('generation.prefill', { before, ...aids, maxNewTokens: 10 })).ok).toBe(true);
    const done = (await (await start(c, { before, ...aids, params })).end).payload as { context: typeof parts; stats: Record<string, number> };
    expect(done.context).toEqual(parts);
    expect(done.stats.promptTokens).toBe(parts.reduce((n, p) => n + p.tokens, 0));
    expect(done.stats.prefillTokens).toBe(0);

    const refused = await c.call('generation.context', { before, authorNote: { depth: -1 } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });

  it('cancel stops a running generation; the done event says cancelled', async () => {
    const c = caller();
    const { requestId, end } = await start(c, { before, params: { maxNewTokens: 200, minNewTokens: 200 } });
    while (!c.events.some((e) => e.event === 'generation.delta' && e.payload.requestId === requestId)) await new Promise((r) => setTimeout(r, 1));
    const r = await c.call('generation.cancel', { requestId });
    expect(r).toEqual({ ok: true, value: { cancelled: true } });
    const done = (await end).payload as { alternatives: { finishReason: string; tokenCount: number }[] };
    expect(done.alternatives[0]!.finishReason).toBe('cancelled');
    expect(done.alternatives[0]!.tokenCount).toBeLessThan(200);
    expect(await c.call('generation.cancel', { requestId })).toEqual({ ok: true, value: { cancelled: false } });
  });

  it('a caller that goes away (window closed) stops its generation', async () => {
    const c = caller();
    const { requestId, end } = await start(c, { before, params: { maxNewTokens: 200, minNewTokens: 200 } });
    while (!c.events.some((e) => e.event === 'generation.delta' && e.payload.requestId === requestId)) await new Promise((r) => setTimeout(r, 1));
    c.lifetime.abort();
    const done = (await end).payload as { alternatives: { finishReason: string }[] };
    expect(done.alternatives[0]!.finishReason).toBe('cancelled');
  });

  it('a new start cancels the running one', async () => {
    const c = caller();
    const first = await start(c, { before, params: { maxNewTokens: 200, minNewTokens: 200 } });
    const second = await start(c, { before, params: { maxNewTokens: 3 } });
    expect(((await first.end).payload as { alternatives: { finishReason: string }[] }).alternatives[0]!.finishReason).toBe('cancelled');
    expect(((await second.end).payload as { alternatives: { tokenCount: number }[] }).alternatives[0]!.tokenCount).toBeGreaterThan(0);
  });

  it('1,000 rapid start/cancel cycles through IPC and the worker: every request ends, memory stays bounded', async () => {
    const c = caller();
    const cycle = async (i: number) => {
      const { requestId, end } = await start(c, { before: before.slice(0, 10 + (i % 30)), params: { maxNewTokens: 40, seed: i } });
      if (i % 3 === 0) await c.call('generation.cancel', { requestId });
      else if (i % 3 === 1) setImmediate(() => void c.call('generation.cancel', { requestId }));
      return end;
    };
    for (let i = 0; i < 50; i++) await cycle(i);
    const rss = process.memoryUsage().rss;
    const ends = await Promise.all(Array.from({ length: 1000 }, (_, i) => cycle(i)));
    expect(ends.every((e) => e.event === 'generation.done')).toBe(true);
    expect(process.memoryUsage().rss - rss).toBeLessThan(300 * 1024 * 1024);
    c.events.length = 0;
    const after = await (await start(c, { before, params: { maxNewTokens: 5, seed: 1 } })).end;
    expect((after.payload as { alternatives: { tokenCount: number }[] }).alternatives[0]!.tokenCount).toBe(5);
  });

  it('stops at the end of a sentence when asked', async () => {
    const c = caller();
    for (const seed of [1, 2, 3]) {
      const done = (await (await start(c, { before, params: { maxNewTokens: 60, seed }, stopAtSentenceEnd: true })).end).payload as { alternatives: { text: string; finishReason: string }[] };
      const alt = done.alternatives[0]!;
      if (alt.finishReason === 'stop') expect(alt.text).toMatch(/[。！？」!?][」』）)]*$/u);
      // Nothing after the first sentence end.
      expect(alt.text.replace(/[。！？」!?][」』）)。！？!?]*$/u, '')).not.toMatch(/[。！？」]/u);
    }
  });

  it('rejects bad parameters at the door with clear messages', async () => {
    const c = caller();
    const topP = await c.call('generation.start', { before, params: { topP: 1.5 } });
    expect(topP.ok).toBe(false);
    expect(!topP.ok && topP.error).toEqual({ code: 'invalid_argument', message: 'top_p must be in (0, 1] (1 turns it off), got 1.5' });
    const minMax = await c.call('generation.start', { before, params: { maxNewTokens: 5, minNewTokens: 9 } });
    expect(!minMax.ok && minMax.error).toMatchObject({ code: 'invalid_argument' });
  });

  it('a model folder that cannot be loaded ends in an error event naming it', async () => {
    const broken = new GenerationService({ model: () => ({ id: 'gone', dir: join(dbDir, 'no-such-model'), device: 'cpu' }), ...inStore(store) });
    const c = caller(broken);
    const e = await (await start(c, { before })).end;
    expect(e.event).toBe('generation.error');
    expect(e.payload.error).toMatchObject({ code: 'not_found' });
    expect((e.payload.error as { message: string }).message).toContain('no-such-model');
    await broken.dispose();
  });

  it('without a model, the request ends in an error event that says so', async () => {
    const c = caller(null);
    const { end } = await start(c, { before });
    const e = await end;
    expect(e.event).toBe('generation.error');
    expect(e.payload.error).toMatchObject({ code: 'no_model' });
  });
});

function start(c: ReturnType<typeof caller>, payload: Record<string, unknown>) {
  return c.start(payload);
}
