import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The Electron binary from node_modules, or the reason it cannot be used here. */
export function findElectron(): { path: string } | { reason: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { reason: `the Electron binary is not installed (${String(path)})` };
  } catch (error) {
    return { reason: `the Electron binary is not installed: ${(error as Error).message.split('\n')[0]}` };
  }
}
