/**
 * The generation runtime in its own worker thread. onnxruntime-node's `run` executes synchronously on the calling
 * thread (it is only deferred by a setImmediate), so a decode step would block the main process's event loop for
 * its whole duration and a long prefill for seconds. In the worker, the main thread only passes messages: deltas
 * arrive as events, and a cancel reaches the worker between two forward passes.
 */
import type { Worker } from 'node:worker_threads';
import type { ConcreteDevice } from '../engine/device';
import type { GenerationRequest, GenerationResult, PrefillResult } from '../engine/generator';
import { TsuzukiError, type ErrorCode } from '../util/errors';
import { startWorker } from '../util/worker';
import type { RuntimeOptions } from './generation-runtime';

/** Where the prompt comes from: the text before the cursor (with its offset in the document) and the memo. */
export interface PromptSource {
  before: string;
  origin?: number;
  memo?: string;
}

/** What the worker needs to generate: the prompt as text (it tokenizes), and the generator's own parameters. */
export type RemoteGenerateInput = PromptSource & Pick<GenerationRequest, 'maxNewTokens' | 'sampling' | 'seed' | 'n' | 'stopStrings' | 'endOfSentence'>;

export interface RemoteGenerateResult extends GenerationResult {
  /** The context the model continued: its text (a tail of `before`), prompt ids and the memo's share. */
  context: { text: string; ids: number[]; memoTokens: number };
}

export interface OpenedInfo {
  device: ConcreteDevice;
  fallbackReason: string | null;
  loadMs: number;
  precision: string;
  /** The model's positions: the most tokens its context and a continuation hold together. */
  positions: number;
}

export type WorkerRequest =
  | { type: 'open'; dir: string; options: RuntimeOptions }
  | { type: 'generate'; id: number; input: RemoteGenerateInput }
  | { type: 'prefill'; id: number; input: PromptSource & { maxNewTokens: number } }
  | { type: 'cancel'; id: number }
  | { type: 'close' };

export type WorkerMessage =
  | { type: 'opened'; info: OpenedInfo }
  | { type: 'delta'; id: number; index: number; text: string }
  | { type: 'done'; id: number; result: RemoteGenerateResult | PrefillResult }
  | { type: 'error'; id: number | null; code: ErrorCode; message: string }
  | { type: 'closed' };

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  onDelta?: (index: number, text: string) => void;
}

export class RemoteRuntime {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly info: OpenedInfo,
  ) {
    worker.on('message', (m: WorkerMessage) => this.receive(m));
    worker.on('error', (error) => this.fail(new TsuzukiError('internal', `The generation worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.fail(new TsuzukiError('internal', `The generation worker exited (code ${code}).`)));
  }

  /** Starts a worker and loads the model in it. */
  static open(dir: string, options: RuntimeOptions = {}): Promise<RemoteRuntime> {
    const worker = startWorker('generation');
    return new Promise((resolve, reject) => {
      const onMessage = (m: WorkerMessage) => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (m.type === 'opened') resolve(new RemoteRuntime(worker, m.info));
        else {
          void worker.terminate();
          reject(m.type === 'error' ? new TsuzukiError(m.code, m.message) : new TsuzukiError('internal', `Unexpected ${m.type} from the generation worker`));
        }
      };
      const onExit = (code: number) => reject(new TsuzukiError('internal', `The generation worker exited while loading ${dir} (code ${code}).`));
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.once('error', (error) => reject(new TsuzukiError('internal', `The generation worker failed: ${error.message}`, { cause: error })));
      worker.postMessage({ type: 'open', dir, options } satisfies WorkerRequest);
    });
  }

  /** False once the worker has died; the service then opens a new one. */
  get alive(): boolean {
    return this.failure === null && this.closing === null;
  }

  generate(input: RemoteGenerateInput, hooks: { onDelta?: (index: number, text: string) => void; signal?: AbortSignal } = {}): Promise<RemoteGenerateResult> {
    return this.call((id) => ({ type: 'generate', id, input }), hooks);
  }

  prefill(input: PromptSource & { maxNewTokens: number }, signal?: AbortSignal): Promise<PrefillResult> {
    return this.call((id) => ({ type: 'prefill', id, input }), signal ? { signal } : {});
  }

  private call<T>(request: (id: number) => WorkerRequest, hooks: { onDelta?: (index: number, text: string) => void; signal?: AbortSignal }): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const { signal } = hooks;
      const cancel = () => this.worker.postMessage({ type: 'cancel', id } satisfies WorkerRequest);
      const cleanUp = () => signal?.removeEventListener('abort', cancel);
      this.pending.set(id, {
        resolve: ((value: T) => (cleanUp(), resolve(value))) as (value: never) => void,
        reject: (error) => (cleanUp(), reject(error)),
        ...(hooks.onDelta ? { onDelta: hooks.onDelta } : {}),
      });
      this.worker.postMessage(request(id));
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  private receive(m: WorkerMessage): void {
    if (m.type === 'delta') this.pending.get(m.id)?.onDelta?.(m.index, m.text);
    else if (m.type === 'done' || (m.type === 'error' && m.id !== null)) {
      const p = this.pending.get(m.id!);
      this.pending.delete(m.id!);
      if (m.type === 'done') p?.resolve(m.result as never);
      else p?.reject(new TsuzukiError(m.code, m.message));
    }
  }

  private fail(error: Error): void {
    if (this.closing) return;
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Cancels what runs, releases the model and ends the worker. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.failure) return resolve();
      const done = () => void this.worker.terminate().then(() => resolve());
      const timer = setTimeout(done, 5000);
      this.worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'closed') {
          clearTimeout(timer);
          done();
        }
      });
      this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    }).then(() => {
      for (const p of this.pending.values()) p.reject(new TsuzukiError('cancelled', 'The model was closed.'));
      this.pending.clear();
    });
    return this.closing;
  }
}
