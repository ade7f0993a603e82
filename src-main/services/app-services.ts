/**
 * The composition root shared by the Electron app and `tsuzuki serve`: the database, the model library, the
 * generation service on the active model, and every request of the contract over them. Settings that choose the
 * device, the hub mirror and token, and automatic updates are read here, when they are needed.
 */
import { basename, resolve } from 'node:path';
import type { Device } from '../engine/device';
import type { Contract } from '../contract/contract';
import type { Handlers } from '../ipc/router';
import { HubClient, type HubClientOptions } from '../model/hub/client';
import { GenerationService, type ModelChoice } from './generation';
import { createHandlers } from './handlers';
import { ModelsService } from './models';
import { activeSampling, DEFAULT_SETTINGS, type Settings } from '../contract/settings';
import { createStoreHandlers } from './store-handlers';
import type { RemoteStore } from './store-remote';
import { Subscribers } from './subscribers';

export interface AppServicesOptions {
  /** The database in its worker; null when it could not be opened (`storeError` says why, and every request reports it). */
  store: RemoteStore | null;
  storeError: unknown;
  /** The model library folder (default: the platform's data folder + `/models`). */
  modelsDir?: string;
  /** A converted model folder to use instead of the library's active model (`tsuzuki serve --model`). */
  modelDir?: string;
  /** Overrides the device setting (`tsuzuki serve --device`). */
  device?: Device;
  onCloseReady?: () => void;
  /** Told after every `settings.set` (the app follows the updates setting). */
  onSettingsChanged?: (settings: Settings) => void;
}

export interface AppServices {
  handlers: Handlers<Contract>;
  models: ModelsService;
  settings(): Settings;
  dispose(): Promise<void>;
}

export function createAppServices(options: AppServicesOptions): AppServices {
  const { store } = options;
  const settings = (): Settings => store?.settings() ?? DEFAULT_SETTINGS;
  const hubOptions = (): HubClientOptions => {
    const { endpoint, token } = settings().hub;
    return { ...(endpoint ? { endpoint } : {}), ...(token ? { token } : {}) };
  };

  const modelEvents = new Subscribers<'models.job'>();
  const models = new ModelsService({ modelsDir: options.modelsDir, hub: hubOptions, emit: (event, status) => modelEvents.send(event, status) });
  const placement = (): Pick<ModelChoice, 'device' | 'threads'> => {
    const { device, threads } = settings().engine;
    return { device: options.device ?? device, ...(threads ? { threads } : {}) };
  };
  const currentModel = async (): Promise<ModelChoice | null> => {
    if (options.modelDir) return { id: basename(resolve(options.modelDir)), dir: resolve(options.modelDir), ...placement() };
    const active = await models.active();
    return active ? { id: `${active.id}@${active.precision}`, dir: active.dir, ...placement() } : null;
  };
  const generation = new GenerationService({ history: store, presetParams: () => activeSampling(settings()), globalSteering: () => settings().steering, model: currentModel });
  const handlers = createHandlers({
    store: store?.handlers ?? createStoreHandlers({ store: null, storeError: options.storeError }),
    generation,
    models,
    modelEvents,
    currentModel,
    hub: () => new HubClient(hubOptions()),
    onCloseReady: options.onCloseReady,
  });
  const set = handlers['settings.set'];
  handlers['settings.set'] = async (input, ctx) => {
    const result = await set(input, ctx);
    options.onSettingsChanged?.(result);
    return result;
  };
  return {
    handlers,
    models,
    settings,
    async dispose() {
      await generation.dispose();
    },
  };
}
