/**
 * Which URLs the window may load and which links leave for the system browser. Pure functions, so they are tested
 * in plain Node; security.ts and main.ts wire them into Electron. Do not loosen without review.
 */

/**
 * The dev server to load instead of app:// (electron-vite sets ELECTRON_RENDERER_URL in `npm run dev`). Honoured
 * only when the app is not packaged, and only for an http(s) address on this machine: an installed app must never
 * load its window (with the IPC bridge) from wherever an environment variable points.
 */
export function rendererUrl(env: Record<string, string | undefined>, isPackaged: boolean): string | undefined {
  const value = env.ELECTRON_RENDERER_URL;
  if (isPackaged || !value) return undefined;
  const url = parse(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !LOOPBACK.has(url.hostname)) return undefined;
  return url.href;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether `url` is the app's own page: on app://tsuzuki, or on the dev server's origin. Origins are compared whole:
 * a prefix test let http://localhost:5173.example.com pass for http://localhost:5173.
 */
export function isAppUrl(url: string, appOrigin: string, devServerUrl: string | undefined): boolean {
  const origin = originOf(url);
  return origin !== null && (origin === appOrigin || (devServerUrl !== undefined && origin === originOf(devServerUrl)));
}

/** scheme://host[:port]; Node's URL gives a custom scheme such as app: no `origin`. */
function originOf(url: string): string | null {
  const parsed = parse(url);
  return parsed && parsed.host !== '' ? `${parsed.protocol}//${parsed.host}` : null;
}

/**
 * Links the system browser may open: https: pages and mailto: addresses. Never file: (opens or runs local files),
 * http: (readable and changeable on the way) or any other scheme (another application's handler).
 */
export function isSafeExternalUrl(url: string): boolean {
  const parsed = parse(url);
  return parsed !== null && (parsed.protocol === 'https:' || parsed.protocol === 'mailto:');
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
