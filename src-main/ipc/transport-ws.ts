/**
 * The WebSocket transport (`tsuzuki serve`, browser tests, writing from a browser). Only loopback, only with the
 * per-launch token, only under the server's own host names and from its own pages' origins (so another web page,
 * even one that rebinds its DNS name to 127.0.0.1, cannot talk to it).
 *
 * Wire format — client → server: {type: 'call', id, channel, payload}, one text frame of JSON;
 * server → client: {type: 'result', id, result} | {type: 'event', event, payload}.
 *
 * Every frame is hostile until checked, and a bad one ends at most its own connection, never the process: a
 * malformed call is answered with an error (`id: null` when it has no usable id); a frame that is not UTF-8 text
 * closes the connection with 1007, a binary frame with 1003, one over the largest bound with 1009.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ContractShape } from '../contract/contract';
import { toErrorInfo } from '../contract/errors';
import type { CallContext, Router } from './router';

const WS_PATH = '/ws';
const MiB = 1024 * 1024;

/** How many bytes one message may have: `default` for every channel, more for the few that carry whole texts. */
export interface MessageLimits {
  default: number;
  channels: Record<string, number>;
}

/**
 * The app's bounds, from the contract's largest inputs at 3 UTF-8 bytes per (Japanese) character plus JSON's
 * escapes and keys: documents.create/save take a body and a memo of 5,000,000 characters each (30 MB), up to
 * 100,000 generated ranges and the document's aids (a full character book is 500 entries of 15,300 characters:
 * 23 MB); generation.start/prefill/context a `before` of 5,000,000 characters, 200,000 each of memo and `after`
 * and the book (40 MB); history.import a JSONL file of 100,000,000 characters (300 MB, its quotes escaped once more);
 * documents.import a manuscript file of 20 MiB as base64 (27 MB).
 * Everything else is small: 1 MiB.
 */
export const APP_MESSAGE_LIMITS: MessageLimits = {
  default: 1 * MiB,
  channels: {
    'documents.create': 80 * MiB,
    'documents.save': 80 * MiB,
    'generation.start': 48 * MiB,
    'generation.prefill': 48 * MiB,
    'generation.context': 48 * MiB,
    'history.import': 384 * MiB,
    'documents.import': 32 * MiB,
  },
};

/**
 * A message over the default bound must say who it is for in its first bytes — exactly what the client's
 * `JSON.stringify({type, id, channel, payload})` writes — so its size is checked before it is parsed.
 */
const LARGE_CALL_PREFIX = /^\{"type":"call","id":(\d{1,15}),"channel":"([\w.]{1,100})",/;

export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether the Host header names this server: one of `hosts`, compared without case. */
export function isOwnHost(req: IncomingMessage, hosts: ReadonlySet<string>): boolean {
  const host = req.headers.host?.toLowerCase();
  return host !== undefined && hosts.has(host);
}

/** The status that refuses an upgrade, or null when the caller may connect. */
function refusal(req: IncomingMessage, token: string, hosts: ReadonlySet<string>): string | null {
  if (!isOwnHost(req, hosts)) return '421 Misdirected Request';
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== WS_PATH || !tokenMatches(token, url.searchParams.get('token'))) return '401 Unauthorized';
  // Browsers always send Origin; it must be one of this server's pages. Non-browser clients (tests, scripts) send none.
  const origin = req.headers.origin?.toLowerCase();
  if (origin !== undefined && !(origin.startsWith('http://') && hosts.has(origin.slice('http://'.length)))) return '403 Forbidden';
  return null;
}

type Call = { id: number; channel: unknown; payload: unknown };
type Parsed = { call: Call } | { error: string; id: number | null };

function largestLimit(limits: MessageLimits): number {
  return Math.max(limits.default, ...Object.values(limits.channels));
}

/** Parses one text frame into a call, with its size checked against its channel's bound before it is parsed. */
function parseCall(data: Buffer, limits: MessageLimits): Parsed {
  let declared: { id: number; channel: string } | null = null;
  if (data.length > limits.default) {
    const match = LARGE_CALL_PREFIX.exec(data.subarray(0, 200).toString('latin1'));
    if (!match) return { error: `Message too large: ${data.length} bytes; at most ${limits.default} bytes.`, id: null };
    declared = { id: Number(match[1]), channel: match[2]! };
    const limit = Object.prototype.hasOwnProperty.call(limits.channels, declared.channel) ? limits.channels[declared.channel]! : limits.default;
    if (data.length > limit) return { error: `Message too large for ${declared.channel}: ${data.length} bytes; at most ${limit} bytes.`, id: declared.id };
  }
  let message: unknown;
  try {
    // ws has checked that the frame is UTF-8.
    message = JSON.parse(data.toString('utf8'));
  } catch {
    return { error: 'Malformed message: not JSON.', id: null };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return { error: 'Malformed message: expected {type: "call", id, channel, payload}.', id: null };
  const { type, id, channel, payload } = message as Record<string, unknown>;
  if (type !== 'call' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    return { error: 'Malformed message: expected {type: "call", id, channel, payload} with a non-negative integer id.', id: null };
  }
  // A repeated key could name another channel after the prefix was checked: the parsed call must be the declared one.
  if (declared && (declared.id !== id || declared.channel !== channel)) return { error: 'Malformed message: its channel or id is given twice.', id: null };
  return { call: { id, channel, payload } };
}

export function attachWebSocket<C extends ContractShape>(
  server: Server,
  options: { router: Router<C>; token: string; hosts: ReadonlySet<string>; limits: MessageLimits },
): WebSocketServer {
  const { router, token, hosts, limits } = options;
  // ws refuses a frame over maxPayload from its header, before it buffers the data (1009).
  const wss = new WebSocketServer({ noServer: true, maxPayload: largestLimit(limits) });
  const report = (what: string, error: unknown) => process.stderr.write(`tsuzuki serve: ${what}: ${toErrorInfo(error).message}\n`);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener on an upgrade socket; a reset from the other end must not throw.
    socket.on('error', () => socket.destroy());
    const refused = refusal(req, token, hosts);
    if (refused) {
      socket.end(`HTTP/1.1 ${refused}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const lifetime = new AbortController();
    const send = (message: unknown) => {
      try {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      } catch (error) {
        report('reply not sent', error);
      }
    };
    const ctx: CallContext<C> = {
      signal: lifetime.signal,
      emit(event, payload) {
        // An event that breaks the contract is a bug in main: reported and dropped, never thrown into a service's loop.
        try {
          send({ type: 'event', event, payload: router.checkEvent(event, payload) });
        } catch (error) {
          report(`event ${event} not sent`, error);
        }
      },
    };
    // ws has already closed the connection with its code (1007 invalid UTF-8, 1009 too big, 1002 protocol error);
    // without a listener, this 'error' event would end the process.
    ws.on('error', () => {});
    ws.on('close', () => lifetime.abort());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.close(1003, 'binary frames are not accepted');
        return;
      }
      // binaryType is ws's default 'nodebuffer': a whole message, even a fragmented one, is one Buffer.
      const parsed = parseCall(data as Buffer, limits);
      if ('error' in parsed) {
        send({ type: 'result', id: parsed.id, result: { ok: false, error: { code: 'invalid_payload', message: parsed.error } } });
        return;
      }
      const { id, channel, payload } = parsed.call;
      router
        .dispatch(channel, payload, ctx)
        .catch((error: unknown) => ({ ok: false, error: toErrorInfo(error) }))
        .then((result) => send({ type: 'result', id, result }));
    });
  });
  return wss;
}
