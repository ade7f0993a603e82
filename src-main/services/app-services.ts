/**
 * The composition root shared by the Electron app and `tsuzuki serve`: the database, the model library, the
 * generation service on the active model, and every request of the contract over them.
 */
import { basename, resolve } from 'node:path';
import type { Device } from '../engine/device';
import type { Contract } from '../ipc/contract';
import type { Handlers } from '../ipc/router';
import type { Store } from '../store/store';
import { GenerationService, type ModelChoice } from './generation';
import { createHandlers } from './handlers';
import { ModelsService } from './models';
import { Subscribers } from './subscribers';

export interface AppServicesOptions {
  store: Store | null;
  storeError: unknown;
  /** The model library folder (default: the platform's data folder + `/models`). */
  modelsDir?: string;
  /** A converted model folder to use instead of the library's active model (`tsuzuki serve --model`). */
  modelDir?: string;
  device?: Device;
  onCloseReady?: () => void;
}

export interface AppServices {
  handlers: Handlers<Contract>;
  models: ModelsService;
  dispose(): Promise<void>;
}

export function createAppServices(options: AppServicesOptions): AppServices {
  const modelEvents = new Subscribers<'models.job'>();
  const models = new ModelsService({ modelsDir: options.modelsDir, emit: (event, status) => modelEvents.send(event, status) });
  const fixed: ModelChoice | null = options.modelDir
    ? { id: basename(resolve(options.modelDir)), dir: resolve(options.modelDir), device: options.device }
    : null;
  const currentModel = async (): Promise<ModelChoice | null> => {
    if (fixed) return fixed;
    const active = await models.active();
    return active ? { id: `${active.id}@${active.precision}`, dir: active.dir, device: options.device } : null;
  };
  const generation = new GenerationService({ store: options.store, model: currentModel });
  const handlers = createHandlers({
    store: options.store,
    storeError: options.storeError,
    generation,
    models,
    modelEvents,
    currentModel,
    onCloseReady: options.onCloseReady,
  });
  return {
    handlers,
    models,
    async dispose() {
      await generation.dispose();
    },
  };
}
