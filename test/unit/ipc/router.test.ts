import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRouter, type CallContext, type Handlers } from '../../../src-main/ipc/router';
import { TsuzukiError } from '../../../src-main/contract/errors';

// A contract of its own, so the router is tested independently of the app's channels.
const testContract = {
  requests: {
    'math.add': { input: z.object({ a: z.number(), b: z.number() }).strict(), output: z.number() },
    'math.fail': { input: z.object({}).strict(), output: z.number() },
    'math.crash': { input: z.object({}).strict(), output: z.number() },
    'math.lie': { input: z.object({}).strict(), output: z.number() },
    'math.throwOdd': { input: z.object({ kind: z.enum(['string', 'null', 'unprintable']) }).strict(), output: z.number() },
    'count.start': { input: z.object({ requestId: z.string().min(1) }).strict(), output: z.object({ started: z.literal(true) }) },
    'count.cancel': { input: z.object({ requestId: z.string() }).strict(), output: z.object({ cancelled: z.boolean() }) },
  },
  events: {
    'count.tick': z.object({ requestId: z.string(), n: z.number().int() }),
    'count.done': z.object({ requestId: z.string(), reason: z.enum(['finished', 'cancelled']) }),
  },
};
type TC = typeof testContract;

function context(events: unknown[] = []): CallContext<TC> & { controller: AbortController } {
  const controller = new AbortController();
  return { controller, signal: controller.signal, emit: (event, payload) => events.push({ event, payload }) };
}

function makeRouter() {
  const running = new Map<string, AbortController>();
  const handlers = {
    'math.add': ({ a, b }) => a + b,
    'math.fail': () => {
      throw new TsuzukiError('not_found', 'no such thing');
    },
    'math.crash': () => {
      throw new Error('boom');
    },
    'math.lie': () => 'not a number' as unknown as number,
    'math.throwOdd': ({ kind }) => {
      // Values that are not Errors; the last one throws when printed.
      throw kind === 'string' ? 'plain text' : kind === 'null' ? null : Object.create(null);
    },
    'count.start': ({ requestId }, ctx) => {
      const controller = new AbortController();
      running.set(requestId, controller);
      void (async () => {
        for (let n = 0; n < 1000; n++) {
          if (controller.signal.aborted || ctx.signal.aborted) {
            ctx.emit('count.done', { requestId, reason: 'cancelled' });
            return;
          }
          ctx.emit('count.tick', { requestId, n });
          await new Promise((r) => setTimeout(r, 1));
        }
        ctx.emit('count.done', { requestId, reason: 'finished' });
      })();
      return { started: true as const };
    },
    'count.cancel': ({ requestId }) => {
      const controller = running.get(requestId);
      controller?.abort();
      return { cancelled: controller !== undefined };
    },
  } satisfies Handlers<TC>;
  return createRouter(testContract, handlers);
}

describe('router', () => {
  it('answers a valid call with {ok: true, value}', async () => {
    expect(await makeRouter().dispatch('math.add', { a: 2, b: 3 }, context())).toEqual({ ok: true, value: 5 });
  });

  it('rejects a payload that does not match the schema', async () => {
    const router = makeRouter();
    for (const payload of [{ a: '2', b: 3 }, { a: 1 }, { a: 1, b: 2, extra: true }, null, 'text', [1, 2]]) {
      const result = await router.dispatch('math.add', payload, context());
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('invalid_payload');
    }
  });

  it('rejects an unknown channel, including prototype names', async () => {
    const router = makeRouter();
    for (const channel of ['math.sub', '__proto__', 'constructor', 'toString', 42, undefined]) {
      const result = await router.dispatch(channel, {}, context());
      expect(result).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    }
  });

  it('answers a channel that is not a string with unknown_channel, even one that throws when printed', async () => {
    const router = makeRouter();
    const unprintable = [Object.create(null), { toString: 1 }, { toString: () => { throw new Error('no'); } }, Symbol('s'), 10n, [], {}];
    for (const channel of unprintable) {
      expect(await router.dispatch(channel, {}, context())).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    }
  });

  it('turns a thrown non-Error (text, null, an object that cannot be printed) into internal', async () => {
    const router = makeRouter();
    expect(await router.dispatch('math.throwOdd', { kind: 'string' }, context())).toEqual({ ok: false, error: { code: 'internal', message: 'plain text' } });
    expect(await router.dispatch('math.throwOdd', { kind: 'null' }, context())).toEqual({ ok: false, error: { code: 'internal', message: 'null' } });
    expect(await router.dispatch('math.throwOdd', { kind: 'unprintable' }, context())).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('turns a thrown TsuzukiError into its typed error and any other throw into internal', async () => {
    const router = makeRouter();
    expect(await router.dispatch('math.fail', {}, context())).toEqual({ ok: false, error: { code: 'not_found', message: 'no such thing' } });
    expect(await router.dispatch('math.crash', {}, context())).toEqual({
      ok: false,
      error: { code: 'internal', message: 'boom', detail: expect.stringMatching(/^Error: boom\n\s+at /) },
    });
  });

  it('refuses to return a result that breaks the contract', async () => {
    expect(await makeRouter().dispatch('math.lie', {}, context())).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('streams events with the request id until the stream is cancelled by a call', async () => {
    const router = makeRouter();
    const events: { event: string; payload: { requestId: string; n?: number; reason?: string } }[] = [];
    const ctx = context(events);
    expect(await router.dispatch('count.start', { requestId: 'r1' }, ctx)).toEqual({ ok: true, value: { started: true } });
    await new Promise((r) => setTimeout(r, 20));
    expect(await router.dispatch('count.cancel', { requestId: 'r1' }, ctx)).toEqual({ ok: true, value: { cancelled: true } });
    await new Promise((r) => setTimeout(r, 20));
    const ticks = events.filter((e) => e.event === 'count.tick');
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThan(1000);
    expect(ticks.every((e) => e.payload.requestId === 'r1')).toBe(true);
    expect(ticks.map((e) => e.payload.n)).toEqual(ticks.map((_, i) => i));
    expect(events.at(-1)).toEqual({ event: 'count.done', payload: { requestId: 'r1', reason: 'cancelled' } });
  });

  it('validates events: an event outside the contract is a bug and throws', () => {
    const router = makeRouter();
    expect(() => router.checkEvent('count.tick', { requestId: 'x', n: 1.5 })).toThrow();
    expect(() => router.checkEvent('nope', {})).toThrow(/Unknown event/);
    expect(router.checkEvent('count.tick', { requestId: 'x', n: 1 })).toEqual({ requestId: 'x', n: 1 });
  });
});
