/** A token kept across restarts (TSUZUKI_SERVE_TOKEN), so a page left open reconnects to `tsuzuki serve` started again. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRouter } from '../../../src-main/ipc/router';
import { startWebServer } from '../../../src-main/ipc/web-server';

const contract = { requests: { 'echo.say': { input: z.object({}).strict(), output: z.null() } }, events: {} };
const router = createRouter(contract, { 'echo.say': () => null });

function rendererDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tsuzuki-token-')), 'renderer');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  return dir;
}

describe('the serve token', () => {
  it('is the one given, so the same URL works after a restart', async () => {
    const token = 'a-token-kept-across-restarts_0123456789';
    const dir = rendererDir();
    for (let run = 0; run < 2; run++) {
      const server = await startWebServer({ router, rendererDir: dir, port: 0, token });
      try {
        expect(server.url).toMatch(new RegExp(`/\\?token=${token}$`));
        expect((await fetch(server.url)).status).toBe(200);
      } finally {
        await server.close();
      }
    }
  });

  it('is refused when it is easy to guess or not URL-safe, with what to set instead', async () => {
    for (const token of ['short', `${'x'.repeat(31)}`, `${'x'.repeat(40)}&y`]) {
      await expect(startWebServer({ router, rendererDir: rendererDir(), port: 0, token })).rejects.toThrow(/TSUZUKI_SERVE_TOKEN must be 32 to 256 characters/);
    }
  });
});
