/** The composition root of the services: every request of the contract, implemented. */
import type { Contract } from '../ipc/contract';
import type { Handlers } from '../ipc/router';
import { appInfo } from './app';
import { createStoreHandlers, type StoreDeps } from './store-handlers';

export interface HandlerDeps extends StoreDeps {
  /** The Electron shell waits for the renderer's `app.closeReady` before closing the window. */
  onCloseReady?: () => void;
}

export function createHandlers(deps: HandlerDeps = {}): Handlers<Contract> {
  return {
    'app.info': () => appInfo(),
    ...createStoreHandlers(deps),
    'app.closeReady': () => {
      deps.onCloseReady?.();
      return null;
    },
  } satisfies Handlers<Contract>;
}
