/** Builds the app once per test run, so browser tests serve the renderer that the sources make now. */
import { build } from 'electron-vite';

export default async function setup(): Promise<void> {
  await build({ root: new URL('../../', import.meta.url).pathname, logLevel: 'error' });
}
