/**
 * The worker-thread transport: the same router and contract as the renderer's transports, over a `worker_threads`
 * MessagePort (a worker's `parentPort`, or either end of a MessageChannel).
 *
 * Frames — caller → host: {type: 'call', id, channel, payload} | {type: 'cancel', id};
 * host → caller: {type: 'event', id, event, payload} | {type: 'result', id, result}.
 *
 * Each call gets its own AbortSignal (`ctx.signal`): a `cancel` frame with the call's id aborts it, and so does the
 * port closing. Events name the call that emitted them, so a caller can run several streams at once. Structured
 * clone carries the frames, so no size bounds apply: both ends are this program's own threads, but the frames are
 * still checked, and a bad one is answered (or dropped when it has no id), never thrown.
 */
import type { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { TsuzukiError } from '../contract/errors';
import type { ContractShape, EventName, EventPayload, InputOf, OutputOf, RequestName, Result } from '../contract/contract';
import type { Router } from './router';

/** The caller's end: a `Worker`, or a `MessagePort`. */
export interface CallerPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The host's end: a worker's `parentPort`, or a `MessagePort`. */
export interface HostPort extends CallerPort {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const callerFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('call'), id, channel: z.unknown(), payload: z.unknown() }),
  z.object({ type: z.literal('cancel'), id }),
]);
type CallerFrame = z.infer<typeof callerFrame>;

type HostFrame =
  | { type: 'event'; id: number; event: string; payload: unknown }
  | { type: 'result'; id: number; result: Result<unknown> };

/** Answers calls that arrive on `port` with `router`; returns a function that stops listening. */
export function servePort<C extends ContractShape>(port: HostPort, router: Router<C>): () => void {
  const running = new Map<number, AbortController>();
  const send = (frame: HostFrame) => port.postMessage(frame);

  const onMessage = (message: unknown) => {
    const parsed = callerFrame.safeParse(message);
    if (!parsed.success) {
      const callId = id.safeParse((message as { id?: unknown } | null)?.id);
      if (callId.success) {
        send({ type: 'result', id: callId.data, result: { ok: false, error: { code: 'invalid_payload', message: 'Malformed frame.' } } });
      }
      return;
    }
    const frame: CallerFrame = parsed.data;
    if (frame.type === 'cancel') {
      running.get(frame.id)?.abort(new TsuzukiError('cancelled', 'Cancelled by the caller.'));
      return;
    }
    const controller = new AbortController();
    running.set(frame.id, controller);
    void router
      .dispatch(frame.channel, frame.payload, {
        signal: controller.signal,
        emit(event, payload) {
          send({ type: 'event', id: frame.id, event, payload: router.checkEvent(event, payload) });
        },
      })
      .then((result) => {
        running.delete(frame.id);
        send({ type: 'result', id: frame.id, result });
      });
  };
  const onClose = () => {
    for (const controller of running.values()) controller.abort(new TsuzukiError('cancelled', 'The caller went away.'));
    running.clear();
  };
  port.on('message', onMessage);
  port.on('close', onClose);
  return () => port.off('message', onMessage);
}

export interface PortCallHooks<C extends ContractShape> {
  /** Sends a `cancel` for this call when aborted; the call still ends with the host's answer. */
  signal?: AbortSignal;
  onEvent?: <E extends EventName<C>>(event: E, payload: EventPayload<E, C>) => void;
}

interface Pending {
  resolve(result: Result<unknown>): void;
  reject(error: Error): void;
  onEvent?: (event: string, payload: unknown) => void;
}

/**
 * A client of a worker thread: once the worker fails or exits, every call under way and every later one rejects with
 * `stopped(why)`, so no caller waits on a thread that is gone.
 */
export function workerClient<C extends ContractShape>(worker: Worker, stopped: (why: string, cause?: Error) => Error): PortClient<C> {
  const client = new PortClient<C>(worker);
  worker.on('error', (error) => client.fail(stopped(error.message, error)));
  worker.on('exit', (code) => client.fail(stopped(`exit code ${code}`)));
  return client;
}

/** An unexpected error of the host thread, as the cause of the caller's: its stack is the host's. */
function remoteCause(message: string, stack: string): Error {
  const cause = new Error(message);
  cause.name = 'RemoteError';
  cause.stack = stack;
  return cause;
}

/** The caller's end: typed calls that resolve with the value or reject with a TsuzukiError of the host's code. */
export class PortClient<C extends ContractShape> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  constructor(private readonly port: CallerPort) {
    port.on('message', (message) => this.receive(message as HostFrame));
  }

  call<K extends RequestName<C>>(channel: K, input: InputOf<K, C>, hooks: PortCallHooks<C> = {}): Promise<OutputOf<K, C>> {
    if (this.failure) return Promise.reject(this.failure);
    const callId = this.nextId++;
    const { signal } = hooks;
    const cancel = () => this.port.postMessage({ type: 'cancel', id: callId } satisfies CallerFrame);
    return new Promise<Result<unknown>>((resolve, reject) => {
      this.pending.set(callId, { resolve, reject, ...(hooks.onEvent ? { onEvent: hooks.onEvent as Pending['onEvent'] } : {}) });
      this.port.postMessage({ type: 'call', id: callId, channel, payload: input } satisfies CallerFrame);
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    })
      .finally(() => signal?.removeEventListener('abort', cancel))
      .then((result) => {
        if (result.ok) return result.value as OutputOf<K, C>;
        const { code, message, detail } = result.error;
        throw new TsuzukiError(code, message, detail ? { cause: remoteCause(message, detail) } : undefined);
      });
  }

  /** True once the host is gone (`fail` was called). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Ends every call under way with `error`, and every later one (the host is gone). */
  fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private receive(frame: HostFrame): void {
    const pending = this.pending.get(frame.id);
    if (!pending) return;
    if (frame.type === 'event') pending.onEvent?.(frame.event, frame.payload);
    else {
      this.pending.delete(frame.id);
      pending.resolve(frame.result);
    }
  }
}
