/**
 * The generation runtime in its own worker thread. onnxruntime-node's `run` executes synchronously on the calling
 * thread (it is only deferred by a setImmediate), so a decode step would block the main process's event loop for
 * its whole duration and a long prefill for seconds. In the worker, the main thread only passes messages: the worker
 * serves generation-worker-contract.ts through the same router as the renderer's calls, deltas arrive as events,
 * and a cancel (the transport's cancel frame for the call) reaches the worker between two forward passes.
 */
import type { Worker } from 'node:worker_threads';
import { workerClient, type PortClient } from '../ipc/transport-port';
import { TsuzukiError } from '../contract/errors';
import { startWorker } from '../util/worker';
import type { RuntimeOptions } from './generation-runtime';
import type { GenerationWorkerContract, OpenedInfo, PromptSource, RemoteDelta, RemoteGenerateInput, RemoteGenerateResult } from './generation-worker-contract';

export type { OpenedInfo, PromptSource, RemoteGenerateInput, RemoteGenerateResult } from './generation-worker-contract';

/** How long a closing worker may take to release its model before it is ended anyway. */
const CLOSE_TIMEOUT_MS = 5000;

export class RemoteRuntime {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly client: PortClient<GenerationWorkerContract>,
    readonly info: OpenedInfo,
  ) {}

  /** Starts a worker and loads the model in it. */
  static async open(dir: string, options: RuntimeOptions = {}): Promise<RemoteRuntime> {
    const worker = startWorker('generation');
    const client = workerClient<GenerationWorkerContract>(
      worker,
      (why, cause) => new TsuzukiError('internal', `The generation worker for ${dir} stopped (${why}).`, cause ? { cause } : undefined),
    );
    try {
      return new RemoteRuntime(worker, client, await client.call('runtime.open', { dir, options }));
    } catch (error) {
      void worker.terminate();
      throw error;
    }
  }

  /** False once the worker has died; the service then opens a new one. */
  get alive(): boolean {
    return !this.client.failed && this.closing === null;
  }

  generate(input: RemoteGenerateInput, hooks: { onDelta?: (delta: RemoteDelta) => void; signal?: AbortSignal } = {}): Promise<RemoteGenerateResult> {
    const { onDelta, signal } = hooks;
    return this.client.call('runtime.generate', input, {
      ...(signal ? { signal } : {}),
      ...(onDelta ? { onEvent: (_event, payload) => onDelta(payload) } : {}),
    });
  }

  prefill(input: PromptSource & { maxNewTokens: number }, signal?: AbortSignal) {
    return this.client.call('runtime.prefill', input, signal ? { signal } : {});
  }

  context(input: PromptSource & { maxNewTokens: number }) {
    return this.client.call('runtime.context', input);
  }

  /** Cancels what runs, releases the model and ends the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.client.failed) return;
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
      await Promise.race([this.client.call('runtime.close', {}).catch(() => undefined), timeout]);
      // Before the worker ends: a call after the close is told the model was closed, not that its worker stopped.
      this.client.fail(new TsuzukiError('cancelled', 'The model was closed.'));
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
