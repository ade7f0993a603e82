import type { BrowserWindow } from 'electron';
import { EVENT_CHANNEL } from '../ipc/transport-electron';

const FLUSH_TIMEOUT_MS = 3000;

/**
 * Before the window closes (close button or quit), the renderer gets an `app.closing` event and saves what the
 * writer typed since the last autosave; the window closes when it answers `app.closeReady`, or after a timeout so a
 * hung renderer can never keep the app open.
 */
export function guardClose(window: BrowserWindow): { ready(): void } {
  let release: (() => void) | undefined;
  let closing = false;
  window.on('close', (event) => {
    if (closing) return;
    event.preventDefault();
    closing = true;
    const done = () => {
      clearTimeout(timer);
      release = undefined;
      if (!window.isDestroyed()) window.destroy();
    };
    const timer = setTimeout(done, FLUSH_TIMEOUT_MS);
    release = done;
    window.webContents.send(EVENT_CHANNEL, { event: 'app.closing', payload: {} });
  });
  return { ready: () => release?.() };
}
