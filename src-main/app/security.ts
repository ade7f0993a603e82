/**
 * Security guards for every webContents. Do not loosen without review: the renderer shows model output and
 * must never navigate away, open windows, or get permissions. The pages' Content-Security-Policy
 * (util/static-files.ts, sent with every app:// response) allows no inline script and no inline style: style-src
 * 'unsafe-inline' is not needed, as Svelte's style: directives and ProseMirror style elements through the CSSOM,
 * which CSP does not govern (test/e2e/csp.browser.test.ts runs the editor under it and smuggles a style in).
 */
import { app, session, shell, type WebContents } from 'electron';
import { isSafeExternalUrl } from './urls';

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
      // https: and mailto: links go to the system; nothing opens inside the app, and no other scheme opens at all.
      if (isSafeExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}
