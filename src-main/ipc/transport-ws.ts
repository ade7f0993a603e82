/**
 * The WebSocket transport (`tsuzuki serve`, browser tests, writing from a browser). Only loopback, only with the
 * per-launch token, only from the page's own origin (so another web page cannot talk to it).
 *
 * Wire format — client → server: {type: 'call', id, channel, payload};
 * server → client: {type: 'result', id, result} | {type: 'event', event, payload}.
 */
import type { IncomingMessage, Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContractShape } from './contract';
import type { CallContext, Router } from './router';

const WS_PATH = '/ws';
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function authorized(req: IncomingMessage, token: string): boolean {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== WS_PATH || !tokenMatches(token, url.searchParams.get('token'))) return false;
  // Browsers always send Origin; it must be this server. Non-browser clients (tests, scripts) send none.
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

export function attachWebSocket<C extends ContractShape>(server: Server, router: Router<C>, token: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('upgrade', (req, socket, head) => {
    if (!authorized(req, token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const lifetime = new AbortController();
    const send = (message: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    const ctx: CallContext<C> = {
      signal: lifetime.signal,
      emit(event, payload) {
        send({ type: 'event', event, payload: router.checkEvent(event, payload) });
      },
    };
    ws.on('close', () => lifetime.abort());
    ws.on('message', async (data, isBinary) => {
      let message: unknown;
      try {
        message = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        message = undefined;
      }
      const call = message as { type?: unknown; id?: unknown; channel?: unknown; payload?: unknown } | undefined;
      if (!call || call.type !== 'call' || typeof call.id !== 'number') {
        send({ type: 'result', id: null, result: { ok: false, error: { code: 'invalid_payload', message: 'Malformed message: expected {type: "call", id, channel, payload}' } } });
        return;
      }
      const result = await router.dispatch(call.channel, call.payload, ctx);
      send({ type: 'result', id: call.id, result });
    });
  });
  return wss;
}
