/**
 * The app's database in its own worker thread (workers/store.worker.ts). better-sqlite3 is synchronous: on the main
 * thread a 60,000-row import, a search over a long history or a backup's copy held up every window's input and
 * every stream for their whole duration. Here the main thread only passes messages; the worker holds the one
 * connection and runs the same store handlers, so every request behaves as before.
 */
import type { Worker } from 'node:worker_threads';
import { storeRequests } from '../contract/store';
import { workerClient, type PortClient } from '../ipc/transport-port';
import { TsuzukiError } from '../contract/errors';
import { startWorker } from '../util/worker';
import type { Settings } from '../contract/settings';
import type { StoreHandlers } from './store-handlers';
import type { NewGenerationInput, StoreWorkerContract } from './store-worker-contract';

/** How long a closing worker may take to checkpoint and close before it is ended anyway. */
const CLOSE_TIMEOUT_MS = 10_000;

export class RemoteStore {
  /** Every store request of the app's contract, answered by the worker. */
  readonly handlers: StoreHandlers;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly client: PortClient<StoreWorkerContract>,
    private current: Settings,
  ) {
    // Each channel's input and output are those of the same schemas on both sides, checked by both routers.
    const forward = (channel: keyof typeof storeRequests) => (input: unknown) => client.call(channel, input as never);
    this.handlers = Object.fromEntries(
      Object.keys(storeRequests).map((channel) => [channel, forward(channel as keyof typeof storeRequests)]),
    ) as unknown as StoreHandlers;
    const set = this.handlers['settings.set'];
    this.handlers['settings.set'] = async (input, ctx) => (this.current = await set(input, ctx));
  }

  /** Starts the worker and opens the database there; rejects with the reason when it cannot be opened. */
  static async open(path: string, log: (message: string) => void): Promise<RemoteStore> {
    const worker = startWorker('store');
    const client = workerClient<StoreWorkerContract>(
      worker,
      (why, cause) =>
        new TsuzukiError('internal', `The database worker for ${path} stopped (${why}); restart Tsuzuki. Everything saved before is in the database.`, cause ? { cause } : undefined),
    );
    try {
      const { notices } = await client.call('store.open', { path });
      notices.forEach(log);
      return new RemoteStore(worker, client, await client.call('settings.get', {}));
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** The settings as last read or written (the main thread reads them often: device, hub, updates). */
  settings(): Settings {
    return this.current;
  }

  /** Stores one generation's history entries; answers their ids in order. */
  record(entries: NewGenerationInput[]): Promise<number[]> {
    return this.client.call('generations.record', { entries });
  }

  /** Checkpoints and closes the database, then ends the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
      await Promise.race([this.client.call('store.close', {}).catch(() => undefined), timeout]);
      await this.worker.terminate();
    })();
    return this.closing;
  }
}

/**
 * Opens the database in its worker the way the app and `tsuzuki serve` both do (see services/open-store.ts): one
 * that cannot be opened leaves the app running, and every store request answers with the reason.
 */
export async function openRemoteStore(path: string, log: (message: string) => void): Promise<{ store: RemoteStore | null; storeError: unknown }> {
  try {
    return { store: await RemoteStore.open(path, log), storeError: null };
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    return { store: null, storeError: error };
  }
}
