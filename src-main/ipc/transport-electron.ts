/**
 * The Electron IPC transport: one `ipcMain.handle` per request channel, events to the calling window through
 * `webContents.send('tsuzuki:event', {event, payload})`. A call is answered only when it comes from the main frame of
 * a window we created, showing our own renderer URL (VS Code's validatedIpcMain does the same).
 * Only types come from 'electron' here; the app layer passes the real ipcMain in.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { ContractShape } from '../contract/contract';
import type { CallContext, Router } from './router';

export const EVENT_CHANNEL = 'tsuzuki:event';

export interface ElectronTransportOptions {
  /** True when the URL is our renderer (app://tsuzuki/… or, in development, the electron-vite dev server). */
  isTrustedUrl(url: string): boolean;
  /** True for the webContents of windows we created. */
  isOurWindow(contents: WebContents): boolean;
}

export function bindElectronIpc<C extends ContractShape>(ipcMain: IpcMain, router: Router<C>, options: ElectronTransportOptions): () => void {
  // One lifetime signal per window: aborted when the window goes away, so its streams stop.
  const lifetimes = new WeakMap<WebContents, AbortController>();
  const contextFor = (contents: WebContents): CallContext<C> => {
    let lifetime = lifetimes.get(contents);
    if (!lifetime) {
      const controller = new AbortController();
      lifetime = controller;
      lifetimes.set(contents, controller);
      contents.once('destroyed', () => controller.abort());
    }
    return {
      signal: lifetime.signal,
      emit(event, payload) {
        const checked = router.checkEvent(event, payload);
        if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, { event, payload: checked });
      },
    };
  };

  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    return frame !== null && frame.parent === null && options.isOurWindow(event.sender) && options.isTrustedUrl(frame.url);
  };

  const channels = Object.keys(router.contract.requests);
  for (const channel of channels) {
    ipcMain.handle(channel, (event, payload: unknown) => {
      if (!trusted(event)) {
        return { ok: false, error: { code: 'unauthorized', message: 'This call did not come from the Tsuzuki window.' } };
      }
      return router.dispatch(channel, payload, contextFor(event.sender));
    });
  }
  return () => channels.forEach((channel) => ipcMain.removeHandler(channel));
}
