/** The composition root of the services: every request of the contract, implemented. */
import type { Contract } from '../ipc/contract';
import type { Handlers } from '../ipc/router';
import { appInfo } from './app';

export function createHandlers(): Handlers<Contract> {
  return {
    'app.info': () => appInfo(),
  } satisfies Handlers<Contract>;
}
