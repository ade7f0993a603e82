import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import { createRouter } from '../../../src-main/ipc/router';
import { startWebServer, type WebServer } from '../../../src-main/ipc/web-server';

const contract = {
  requests: {
    'echo.say': { input: z.object({ text: z.string().max(100) }).strict(), output: z.string() },
    'echo.stream': { input: z.object({ requestId: z.string() }).strict(), output: z.null() },
  },
  events: { 'echo.chunk': z.object({ requestId: z.string(), text: z.string() }) },
};

let server: WebServer;
let rendererDir: string;
let aborted = 0;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsuzuki-ws-'));
  rendererDir = join(root, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  symlinkSync(join(root, 'secret.txt'), join(rendererDir, 'link.txt'));
  const router = createRouter(contract, {
    'echo.say': ({ text }) => `echo: ${text}`,
    'echo.stream': ({ requestId }, ctx) => {
      ctx.emit('echo.chunk', { requestId, text: 'a' });
      ctx.emit('echo.chunk', { requestId, text: 'b' });
      ctx.signal.addEventListener('abort', () => aborted++);
      return null;
    },
  });
  server = await startWebServer({ router, rendererDir, port: 0 });
});
afterAll(() => server.close());

function connect(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, channel: string, payload: unknown): Promise<unknown[]> {
  const received: unknown[] = [];
  return new Promise((resolve) => {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      received.push(message);
      if (message.type === 'result' && message.id === id) resolve(received);
    });
    ws.send(JSON.stringify({ type: 'call', id, channel, payload }));
  });
}

describe('WebSocket transport', () => {
  it('serves the page only with the token', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${server.port}/?token=wrong`)).status).toBe(401);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('never serves files outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/link.txt', '/%5c..%5csecret.txt']) {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
      expect(response.status, path).toBe(404);
    }
  });

  it('refuses a connection without the token, with a wrong token, or from another origin', async () => {
    await expect(connect('')).rejects.toThrow('401');
    await expect(connect('?token=nope')).rejects.toThrow('401');
    await expect(connect(`?token=${server.token}`, { origin: 'https://evil.example' })).rejects.toThrow('401');
  });

  it('answers calls and validates them', async () => {
    const ws = await connect(`?token=${server.token}`);
    expect((await call(ws, 1, 'echo.say', { text: 'こんにちは' })).at(-1)).toEqual({ type: 'result', id: 1, result: { ok: true, value: 'echo: こんにちは' } });
    expect((await call(ws, 2, 'echo.say', { text: 5 })).at(-1)).toMatchObject({ id: 2, result: { ok: false, error: { code: 'invalid_payload' } } });
    expect((await call(ws, 3, 'nope.x', {})).at(-1)).toMatchObject({ id: 3, result: { ok: false, error: { code: 'unknown_channel' } } });
    ws.close();
  });

  it('delivers events to the caller and aborts its streams when it disconnects', async () => {
    const ws = await connect(`?token=${server.token}`);
    const messages = await call(ws, 7, 'echo.stream', { requestId: 'r' });
    expect(messages.filter((m) => (m as { type: string }).type === 'event')).toEqual([
      { type: 'event', event: 'echo.chunk', payload: { requestId: 'r', text: 'a' } },
      { type: 'event', event: 'echo.chunk', payload: { requestId: 'r', text: 'b' } },
    ]);
    const before = aborted;
    ws.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(aborted).toBe(before + 1);
  });

  it('answers a malformed message with an error instead of dropping the connection', async () => {
    const ws = await connect(`?token=${server.token}`);
    const reply = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    ws.send('{not json');
    expect(await reply).toMatchObject({ type: 'result', id: null, result: { ok: false, error: { code: 'invalid_payload' } } });
    ws.close();
  });
});
