import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsuzukiError } from '../../contract/errors';
import { contract } from '../../contract/contract';
import { createRouter } from '../../ipc/router';
import { assertLoopbackHost, startWebServer } from '../../ipc/web-server';
import type { Device } from '../../engine/device';
import { createAppServices } from '../../services/app-services';
import { openRemoteStore } from '../../services/store-remote';
import { defaultDatabasePath } from '../../store/location';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

const usage = 'tsuzuki serve [--port N] [--host 127.0.0.1] [--renderer DIR] [--db FILE] [--models DIR] [--model DIR] [--device auto|cpu|…]';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The renderer is built by electron-vite; from a fresh clone, build it once on first serve. */
async function ensureRenderer(dir: string): Promise<void> {
  if (existsSync(`${dir}/index.html`)) return;
  process.stderr.write('Building the renderer (first run)…\n');
  const { build } = await import('electron-vite');
  await build({ root: repoRoot, logLevel: 'warn' });
}

export const serve: Command = {
  name: 'serve',
  summary: 'Serve the app to a browser on loopback; prints the URL with its per-launch token',
  usage,
  async run(args) {
    const { values } = parseCommandArgs(usage, args, {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      renderer: { type: 'string', default: `${repoRoot}out/renderer` },
      db: { type: 'string', default: defaultDatabasePath() },
      model: { type: 'string' },
      models: { type: 'string' },
      device: { type: 'string' },
    }, false);
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TsuzukiError('invalid_argument', `--port must be 0–65535, got ${values.port}\nUsage: ${usage}`);
    // Before anything is built, opened or created: a refused address must leave no database behind.
    assertLoopbackHost(values.host);
    await ensureRenderer(values.renderer);
    const { store, storeError } = await openRemoteStore(values.db, (message) => process.stderr.write(`tsuzuki serve: ${message}\n`));
    // An unknown device is refused by the engine with the list of valid ones, on the first generation.
    const services = createAppServices({ store, storeError, modelDir: values.model, device: values.device as Device | undefined, modelsDir: values.models });
    const router = createRouter(contract, services.handlers);
    const server = await startWebServer({ router, rendererDir: values.renderer, host: values.host, port, token: process.env.TSUZUKI_SERVE_TOKEN || undefined });
    process.stdout.write(`Tsuzuki is serving at ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await services.dispose();
    await store?.close();
    return 0;
  },
};
