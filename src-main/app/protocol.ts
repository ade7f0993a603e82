import { protocol } from 'electron';
import { contentSecurityPolicy, readStatic } from '../util/static-files';

const APP_SCHEME = 'app';
export const APP_ORIGIN = 'app://tsuzuki';

/** Must run before `app.whenReady()`: makes app:// a standard, secure origin (localStorage, fetch, CSP 'self'). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** Serves the built renderer from `rendererDir`; anything outside it (traversal, other hosts) is a 404. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === 'tsuzuki' ? await readStatic(rendererDir, url.pathname) : null;
    if (!file) return new Response('Not found', { status: 404 });
    return new Response(new Uint8Array(file.body), {
      headers: {
        'content-type': file.type,
        'content-security-policy': contentSecurityPolicy([]),
        'x-content-type-options': 'nosniff',
      },
    });
  });
}
