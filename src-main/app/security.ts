/**
 * Security guards for every webContents. Do not loosen without review: the renderer shows model output and
 * must never navigate away, open windows, or get permissions.
 */
import { app, session, shell, type WebContents } from 'electron';

function isExternalHttp(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

export function installSecurityGuards(isAppUrl: (url: string) => boolean): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // External links go to the system browser; nothing opens inside the app.
      if (isExternalHttp(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}
