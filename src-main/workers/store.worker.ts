/**
 * Hosts the app's one database connection, so that SQLite's synchronous work (a large import, a search, a backup)
 * never blocks the main thread's event loop; see services/store-remote.ts.
 */
import { parentPort } from 'node:worker_threads';
import { createRouter, type Handlers } from '../ipc/router';
import { servePort } from '../ipc/transport-port';
import { storeHistory } from '../services/generation-history';
import { openAppStore } from '../services/open-store';
import { createStoreHandlers, type StoreDeps } from '../services/store-handlers';
import { storeWorkerContract, type StoreWorkerContract } from '../services/store-worker-contract';
import { TsuzukiError } from '../contract/errors';

const deps: StoreDeps = { store: null, storeError: new TsuzukiError('internal', 'The database worker has no database open.') };

function open() {
  if (!deps.store) throw deps.storeError;
  return deps.store;
}

const handlers: Handlers<StoreWorkerContract> = {
  ...createStoreHandlers(deps),
  async 'store.open'({ path }) {
    if (deps.store) throw new TsuzukiError('internal', 'The database worker already has a database open.');
    const notices: string[] = [];
    const opened = await openAppStore(path, (message) => notices.push(message));
    if (!opened.store) throw opened.storeError;
    deps.store = opened.store;
    return { notices };
  },
  'generations.record': ({ entries }) => storeHistory(open()).record(entries),
  'store.close'() {
    deps.store?.close();
    deps.store = null;
    return null;
  },
};

servePort(parentPort!, createRouter(storeWorkerContract, handlers));
