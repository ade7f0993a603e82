import { once } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRouter, type Handlers } from '../../../src-main/ipc/router';
import { PortClient, servePort } from '../../../src-main/ipc/transport-port';
import { TsuzukiError } from '../../../src-main/contract/errors';

// A contract of its own, so the transport is tested independently of the generation worker's channels.
const testContract = {
  requests: {
    'math.add': { input: z.object({ a: z.number(), b: z.number() }).strict(), output: z.number() },
    'math.fail': { input: z.object({}).strict(), output: z.number() },
    'math.crash': { input: z.object({}).strict(), output: z.number() },
    /** Emits `count.tick` until `to` or until its call is cancelled; answers how far it got. */
    'count.run': { input: z.object({ to: z.number().int() }).strict(), output: z.object({ reached: z.number(), cancelled: z.boolean() }) },
  },
  events: { 'count.tick': z.object({ n: z.number().int() }) },
};
type TC = typeof testContract;

/** Resolves once `signal` is aborted (or at once when it already is). */
const aborted = (signal: AbortSignal) => (signal.aborted ? Promise.resolve() : once(signal, 'abort'));

const handlers: Handlers<TC> = {
  'math.add': ({ a, b }) => a + b,
  'math.fail': () => {
    throw new TsuzukiError('not_found', 'no such thing');
  },
  'math.crash': function crashInHost() {
    throw new RangeError('Invalid array length');
  },
  async 'count.run'({ to }, ctx) {
    let n = 0;
    for (; n < to && !ctx.signal.aborted; n++) {
      ctx.emit('count.tick', { n });
      // A turn of the event loop per tick, so that a cancel frame is read between two ticks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { reached: n, cancelled: ctx.signal.aborted };
  },
};

let ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports) port.close();
  ports = [];
});

function connect() {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  servePort(port2, createRouter(testContract, handlers));
  return { client: new PortClient<TC>(port1), raw: port1 };
}

describe('the worker-thread transport', () => {
  it('answers a call with the handler’s value', async () => {
    const { client } = connect();
    await expect(client.call('math.add', { a: 2, b: 3 })).resolves.toBe(5);
  });

  it('rejects with the host’s error code and message', async () => {
    const { client } = connect();
    const error = await client.call('math.fail', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TsuzukiError);
    expect(error).toMatchObject({ code: 'not_found', message: 'no such thing' });
  });

  it('carries an unexpected error as internal, with the host’s stack as its cause', async () => {
    const { client } = connect();
    const error = (await client.call('math.crash', {}).catch((e: unknown) => e)) as TsuzukiError;
    expect(error).toMatchObject({ code: 'internal', message: 'Invalid array length' });
    expect((error.cause as Error).stack).toMatch(/RangeError: Invalid array length[\s\S]*crashInHost/);
  });

  it('checks the payload against the contract', async () => {
    const { client } = connect();
    await expect(client.call('math.add', { a: 1, b: 'two' } as never)).rejects.toMatchObject({ code: 'invalid_payload' });
  });

  it('routes each call’s events to that call only', async () => {
    const { client } = connect();
    const seen: [number[], number[]] = [[], []];
    const [a, b] = await Promise.all(
      [5, 8].map((to, i) => client.call('count.run', { to }, { onEvent: (_event, payload) => seen[i]!.push(payload.n) })),
    );
    expect(a).toEqual({ reached: 5, cancelled: false });
    expect(b).toEqual({ reached: 8, cancelled: false });
    expect(seen).toEqual([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7]]);
  });

  it('cancels one call by its id, leaving the others running', async () => {
    const { client } = connect();
    const controller = new AbortController();
    const ticks: number[] = [];
    const cancelled = client.call('count.run', { to: 1_000_000 }, {
      signal: controller.signal,
      onEvent: (_event, payload) => {
        ticks.push(payload.n);
        if (payload.n === 3) controller.abort();
      },
    });
    const other = client.call('count.run', { to: 20 });
    const result = await cancelled;
    expect(result.cancelled).toBe(true);
    expect(result.reached).toBeLessThan(1_000_000);
    expect(ticks.slice(0, 4)).toEqual([0, 1, 2, 3]);
    await expect(other).resolves.toEqual({ reached: 20, cancelled: false });
  });

  it('aborts what runs when the caller’s port closes', async () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    let signal: AbortSignal | null = null;
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    servePort(
      port2,
      createRouter(testContract, {
        ...handlers,
        async 'count.run'(_input, ctx) {
          signal = ctx.signal;
          markStarted();
          await aborted(ctx.signal);
          return { reached: 0, cancelled: true };
        },
      }),
    );
    void new PortClient<TC>(port1).call('count.run', { to: 1 }).catch(() => undefined);
    await started;
    port1.close();
    await aborted(signal!);
    expect(signal!.aborted).toBe(true);
  });

  it('answers a malformed frame that has an id, drops one that has none, and keeps serving', async () => {
    const { client, raw } = connect();
    const answers: unknown[] = [];
    raw.on('message', (m) => answers.push(m));
    raw.postMessage({ type: 'call', id: 7 });
    raw.postMessage({ type: 'call', id: 'seven', channel: 'math.add', payload: { a: 1, b: 1 } });
    raw.postMessage(null);
    raw.postMessage({ type: 'cancel' });
    await expect(client.call('math.add', { a: 1, b: 1 })).resolves.toBe(2);
    expect(answers).toContainEqual({ type: 'result', id: 7, result: { ok: false, error: expect.objectContaining({ code: 'invalid_payload' }) } });
    expect(answers.filter((m) => (m as { id?: unknown }).id !== 1)).toHaveLength(1);
  });

  it('fails every call under way and every later one once the host is gone', async () => {
    const { client } = connect();
    const running = client.call('count.run', { to: 1_000_000 });
    const gone = new TsuzukiError('internal', 'The worker exited.');
    client.fail(gone);
    await expect(running).rejects.toBe(gone);
    await expect(client.call('math.add', { a: 1, b: 1 })).rejects.toBe(gone);
  });
});
