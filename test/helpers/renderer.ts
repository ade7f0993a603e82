/** Builds the renderer from the current sources into a fresh folder (one per test file: no races, never stale). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type InlineConfig } from 'vite';
import config from '../../electron.vite.config';

export async function buildRenderer(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'tsuzuki-renderer-'));
  const renderer = (config as { renderer: InlineConfig }).renderer;
  await build({
    ...renderer,
    configFile: false,
    base: './',
    logLevel: 'error',
    build: { ...renderer.build, outDir, emptyOutDir: true },
  });
  return outDir;
}
