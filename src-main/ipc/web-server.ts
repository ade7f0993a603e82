/**
 * `tsuzuki serve`: the built renderer over HTTP plus the WebSocket transport, on loopback only.
 * The page is served only with the per-launch token in its URL; it passes the token on to the WebSocket. Every
 * request, page or WebSocket, must name this server in its Host header (see ownHosts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TsuzukiError } from '../contract/errors';
import { contentSecurityPolicy, readStatic } from '../util/static-files';
import type { ContractShape } from '../contract/contract';
import type { Router } from './router';
import { APP_MESSAGE_LIMITS, attachWebSocket, isOwnHost, tokenMatches, type MessageLimits } from './transport-ws';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Refuses any address but loopback; `tsuzuki serve` checks it before it opens or creates anything. */
export function assertLoopbackHost(host: string): void {
  if (!LOOPBACK.has(host)) {
    throw new TsuzukiError(
      'invalid_argument',
      `Refusing to listen on ${host}: tsuzuki serve only listens on loopback (127.0.0.1, ::1 or localhost), so that no other machine can reach your writing.`,
    );
  }
}

/**
 * The Host values that name this server: its own address and `localhost`, with its port. A DNS-rebinding page
 * reaches the same socket under its own name, so a request with any other Host is refused.
 */
function ownHosts(address: AddressInfo): Set<string> {
  const ip = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return new Set([`${ip}:${address.port}`, `localhost:${address.port}`]);
}

export interface WebServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export async function startWebServer<C extends ContractShape>(options: {
  router: Router<C>;
  rendererDir: string;
  host?: string;
  port?: number;
  /** Bytes per WebSocket message; the app's bounds unless a test needs others. */
  messageLimits?: MessageLimits;
  /**
   * The token to require, kept across restarts so an open page reconnects to the restarted server
   * (TSUZUKI_SERVE_TOKEN); a fresh random one when absent.
   */
  token?: string;
}): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  assertLoopbackHost(host);
  if (options.token !== undefined && !/^[A-Za-z0-9_-]{32,256}$/.test(options.token)) {
    throw new TsuzukiError('invalid_argument', 'TSUZUKI_SERVE_TOKEN must be 32 to 256 characters of A–Z, a–z, 0–9, _ and - (as hard to guess as a password).');
  }
  const token = options.token ?? randomBytes(24).toString('base64url');
  // Filled in once the server listens (the port is known then); until then no Host is accepted.
  const hosts = new Set<string>();
  const server: Server = createServer(async (req, res) => {
    if (!isOwnHost(req, hosts)) {
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' }).end('421: open the URL printed by `tsuzuki serve`.\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const isPage = url.pathname === '/' || url.pathname === '/index.html';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (isPage && !tokenMatches(token, url.searchParams.get('token'))) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('401: open the URL printed by `tsuzuki serve` (it carries the token).\n');
      return;
    }
    try {
      const file = await readStatic(options.rendererDir, url.pathname);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404\n');
        return;
      }
      res.writeHead(200, {
        'content-type': file.type,
        'content-security-policy': contentSecurityPolicy([...hosts].map((h) => `ws://${h}`)),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    } catch {
      res.writeHead(500).end();
    }
  });
  const wss = attachWebSocket(server, { router: options.router, token, hosts, limits: options.messageLimits ?? APP_MESSAGE_LIMITS });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  for (const own of ownHosts(address)) hosts.add(own);
  const port = address.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
