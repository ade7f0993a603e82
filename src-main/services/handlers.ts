/** The composition root of the services: every request of the contract, implemented. */
import type { Contract } from '../contract/contract';
import type { Handlers } from '../ipc/router';
import type { HubClient } from '../model/hub/client';
import { appInfo } from './app';
import { GenerationService } from './generation';
import { createModelsHandlers } from './models-handlers';
import { ModelsService } from './models';
import { Subscribers } from './subscribers';
import type { StoreHandlers } from './store-handlers';

export interface HandlerDeps {
  /** The documents, history, settings and db requests: the database worker's, or a Store's in this thread. */
  store: StoreHandlers;
  /** The Electron shell waits for the renderer's `app.closeReady` before closing the window. */
  onCloseReady?: () => void;
  /** Generation on the active model; without one, generation requests answer that no model is available. */
  generation?: GenerationService;
  /** The model library (default: the platform's data folder); job progress goes to `modelEvents`. */
  models?: ModelsService;
  modelEvents?: Subscribers<'models.job'>;
  /** The model generation uses now (the same function the GenerationService was given). */
  currentModel?: () => Promise<{ id: string; dir: string } | null>;
  /** The hub client for `models.plan` (mirror and token from the settings). */
  hub?: () => HubClient;
}

export function createHandlers(deps: HandlerDeps): Handlers<Contract> {
  const generation = deps.generation ?? new GenerationService({ model: () => null });
  const models = deps.models ?? new ModelsService();
  return {
    'app.info': () => appInfo(),
    ...deps.store,
    'generation.start': (input, ctx) => generation.start(input, ctx.emit, ctx.signal),
    'generation.cancel': ({ requestId }) => generation.cancel(requestId),
    'generation.prefill': (input) => generation.prefill(input),
    'generation.context': (input) => generation.context(input),
    ...createModelsHandlers({ models, events: deps.modelEvents ?? new Subscribers(), inUse: async () => (await deps.currentModel?.()) ?? null, hub: deps.hub }),
    'app.closeReady': () => {
      deps.onCloseReady?.();
      return null;
    },
  } satisfies Handlers<Contract>;
}
