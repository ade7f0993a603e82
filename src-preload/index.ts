/**
 * Exposes `window.tsuzuki`: one named function per request (`tsuzuki.app.info(input)`) and `on(event, listener)`.
 * Never ipcRenderer itself. The request names come from the main process (additionalArguments), so this file
 * imports only types from the contract.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { RawApi } from '../src-main/contract/contract';

const CHANNELS_ARG = '--tsuzuki-channels=';
const EVENT_CHANNEL = 'tsuzuki:event';

const channels = (process.argv.find((a) => a.startsWith(CHANNELS_ARG)) ?? CHANNELS_ARG)
  .slice(CHANNELS_ARG.length)
  .split(',')
  .filter((c) => /^[a-z]+\.[A-Za-z]+$/.test(c));

const api: Record<string, unknown> = {};
for (const channel of channels) {
  const [ns, method] = channel.split('.') as [string, string];
  const group = (api[ns] ??= {}) as Record<string, unknown>;
  group[method] = (input: unknown) => ipcRenderer.invoke(channel, input);
}

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
ipcRenderer.on(EVENT_CHANNEL, (_event: IpcRendererEvent, message: { event: string; payload: unknown }) => {
  listeners.get(message.event)?.forEach((listener) => listener(message.payload));
});
api.on = (event: string, listener: Listener) => {
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  const set = listeners.get(event) ?? new Set<Listener>();
  listeners.set(event, set);
  set.add(listener);
  return () => set.delete(listener);
};

contextBridge.exposeInMainWorld('tsuzuki', api as unknown as RawApi);
