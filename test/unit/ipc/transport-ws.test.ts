import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import { createRouter } from '../../../src-main/ipc/router';
import { startWebServer, type WebServer } from '../../../src-main/ipc/web-server';

const contract = {
  requests: {
    'echo.say': { input: z.object({ text: z.string().max(100) }).strict(), output: z.string() },
    'echo.stream': { input: z.object({ requestId: z.string() }).strict(), output: z.null() },
    'echo.big': { input: z.object({ text: z.string().max(100_000) }).strict(), output: z.number() },
    'echo.badEvent': { input: z.object({}).strict(), output: z.null() },
  },
  events: { 'echo.chunk': z.object({ requestId: z.string(), text: z.string() }) },
};

let server: WebServer;
let router: ReturnType<typeof createRouter<typeof contract>>;
let rendererDir: string;
let aborted = 0;
// Small bounds, so that messages over them are cheap to send: 4 KiB by default, 64 KiB for echo.big.
const limits = { default: 4096, channels: { 'echo.big': 65_536 } };

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'tsuzuki-ws-'));
  rendererDir = join(root, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  symlinkSync(join(root, 'secret.txt'), join(rendererDir, 'link.txt'));
  router = createRouter(contract, {
    'echo.say': ({ text }) => `echo: ${text}`,
    'echo.stream': ({ requestId }, ctx) => {
      ctx.emit('echo.chunk', { requestId, text: 'a' });
      ctx.emit('echo.chunk', { requestId, text: 'b' });
      ctx.signal.addEventListener('abort', () => aborted++);
      return null;
    },
    'echo.big': ({ text }) => text.length,
    'echo.badEvent': (_input, ctx) => {
      // A bug in a service: an event outside the contract, sent from its own loop after the call returned.
      setTimeout(() => ctx.emit('echo.chunk', { requestId: 5 } as never));
      return null;
    },
  });
  server = await startWebServer({ router, rendererDir, port: 0, messageLimits: limits });
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

function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

function reply(ws: WebSocket, frame: string | Buffer): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(data.toString())));
    ws.send(frame, { binary: false });
  });
}

/** A plain HTTP GET with the given Host header (fetch does not let a caller set Host). */
function getWithHost(path: string, host: string, to = { address: '127.0.0.1', port: server.port }): Promise<{ status: number; csp: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: to.address, port: to.port, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, csp: res.headers['content-security-policy'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
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
    await expect(connect(`?token=${server.token}`, { origin: 'https://evil.example' })).rejects.toThrow('403');
    await expect(connect(`?token=${server.token}`, { origin: `https://127.0.0.1:${server.port}` })).rejects.toThrow('403');
    (await connect(`?token=${server.token}`, { origin: `http://localhost:${server.port}` })).close();
  });

  it('answers only under its own host names: a DNS-rebinding page (its own name, same socket) is refused', async () => {
    const page = `/?token=${server.token}`;
    for (const host of [`evil.example:${server.port}`, `127.0.0.1.evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, '127.0.0.1']) {
      expect((await getWithHost(page, host)).status, host).toBe(421);
      const headers = { host, origin: `http://${host}` };
      await expect(connect(`?token=${server.token}`, headers), host).rejects.toThrow('421');
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LOCALHOST:${server.port}`]) {
      const response = await getWithHost(page, host);
      expect(response.status, host).toBe(200);
      // The page may connect back to this server's own addresses only, whatever Host it was asked under.
      expect(response.csp).toContain(`connect-src ws://127.0.0.1:${server.port} ws://localhost:${server.port};`);
    }
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

  it('on ::1 answers under [::1]:PORT and localhost:PORT only', async () => {
    const v6 = await startWebServer({ router, rendererDir, host: '::1', port: 0, messageLimits: limits });
    try {
      const to = { address: '::1', port: v6.port };
      const page = `/?token=${v6.token}`;
      expect((await getWithHost(page, `[::1]:${v6.port}`, to)).status).toBe(200);
      expect((await getWithHost(page, `localhost:${v6.port}`, to)).csp).toContain(`connect-src ws://[::1]:${v6.port} ws://localhost:${v6.port};`);
      expect((await getWithHost(page, `127.0.0.1:${v6.port}`, to)).status).toBe(421);
    } finally {
      await v6.close();
    }
  });

  it('answers a call that is not one with an error and keeps the connection: object channels, non-objects, odd ids', async () => {
    const ws = await connect(`?token=${server.token}`);
    const unknownChannel = { ok: false, error: { code: 'unknown_channel' } };
    expect(await reply(ws, '{"type":"call","id":1,"channel":{"toString":1},"payload":{}}')).toMatchObject({ id: 1, result: unknownChannel });
    expect(await reply(ws, '{"type":"call","id":2,"channel":{"__proto__":null},"payload":{}}')).toMatchObject({ id: 2, result: unknownChannel });
    expect(await reply(ws, '{"type":"call","id":3,"channel":["echo.say"],"payload":{}}')).toMatchObject({ id: 3, result: unknownChannel });
    const malformed = { id: null, result: { ok: false, error: { code: 'invalid_payload' } } };
    for (const frame of ['null', '5', '"call"', '[]', 'true', '{}', '{"type":"call","channel":"echo.say","payload":{"text":"a"}}']) {
      expect(await reply(ws, frame), frame).toMatchObject(malformed);
    }
    for (const id of ['1e300', '1.5', '-1', '9007199254740993', '"7"', 'null']) {
      expect(await reply(ws, `{"type":"call","id":${id},"channel":"echo.say","payload":{"text":"a"}}`), id).toMatchObject(malformed);
    }
    // Deep nesting is parsed without overflowing the stack and refused by the schema.
    const deep = `{"type":"call","id":4,"channel":"echo.say","payload":{"text":${'['.repeat(1500)}${']'.repeat(1500)}}}`;
    expect(await reply(ws, deep)).toMatchObject({ id: 4, result: { ok: false, error: { code: 'invalid_payload' } } });
    expect((await call(ws, 5, 'echo.say', { text: 'まだ' })).at(-1)).toEqual({ type: 'result', id: 5, result: { ok: true, value: 'echo: まだ' } });
    ws.close();
  });

  it('closes only the offending connection: invalid UTF-8 with 1007, a binary frame with 1003, one over every bound with 1009', async () => {
    const frames: [Buffer, boolean, number][] = [
      [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false, 1007],
      [Buffer.from('{"type":"call","id":1,"channel":"echo.say","payload":{"text":"a"}}'), true, 1003],
      [Buffer.alloc(limits.channels['echo.big'] + 1, 0x20), false, 1009],
    ];
    const bystander = await connect(`?token=${server.token}`);
    for (const [frame, binary, code] of frames) {
      const ws = await connect(`?token=${server.token}`);
      const closed = closeCode(ws);
      ws.send(frame, { binary });
      expect(await closed).toBe(code);
    }
    expect((await call(bystander, 1, 'echo.say', { text: 'a' })).at(-1)).toMatchObject({ id: 1, result: { ok: true } });
    bystander.close();
  });

  it('bounds each message by its channel: over the default only for the channels allowed more, checked before parsing', async () => {
    const ws = await connect(`?token=${server.token}`);
    const text = 'あ'.repeat(10_000); // 30 KB in UTF-8: over the 4 KiB default, under echo.big's 64 KiB
    expect((await call(ws, 1, 'echo.big', { text })).at(-1)).toEqual({ type: 'result', id: 1, result: { ok: true, value: 10_000 } });
    const tooLarge = { ok: false, error: { code: 'invalid_payload', message: expect.stringContaining('too large') } };
    expect((await call(ws, 2, 'echo.say', { text })).at(-1)).toMatchObject({ id: 2, result: tooLarge });
    // Not in the order the client writes it: the channel cannot be known before parsing, so it is refused unparsed.
    expect(await reply(ws, JSON.stringify({ channel: 'echo.big', type: 'call', id: 3, payload: { text } }))).toMatchObject({ id: null, result: tooLarge });
    // A repeated key that names another channel after the checked prefix.
    const twice = `{"type":"call","id":4,"channel":"echo.big","payload":{"text":"${'a'.repeat(5000)}"},"channel":"echo.say"}`;
    expect(await reply(ws, twice)).toMatchObject({ id: null, result: { ok: false, error: { code: 'invalid_payload' } } });
    ws.close();
  });

  it('drops an event that breaks the contract instead of throwing it into the service, and reports it', async () => {
    // The report goes to standard error: caught here, so that it is asserted instead of printed.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const ws = await connect(`?token=${server.token}`);
      expect((await call(ws, 1, 'echo.badEvent', {})).at(-1)).toMatchObject({ id: 1, result: { ok: true } });
      expect((await call(ws, 2, 'echo.say', { text: 'a' })).at(-1)).toMatchObject({ id: 2, result: { ok: true } });
      ws.close();
      await expect.poll(() => stderr.mock.calls.map(([chunk]) => String(chunk)).join('')).toMatch(/^tsuzuki serve: event echo\.chunk not sent: requestId: /);
    } finally {
      stderr.mockRestore();
    }
  });

  it('answers a malformed message with an error instead of dropping the connection', async () => {
    const ws = await connect(`?token=${server.token}`);
    const reply = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    ws.send('{not json');
    expect(await reply).toMatchObject({ type: 'result', id: null, result: { ok: false, error: { code: 'invalid_payload' } } });
    ws.close();
  });
});
