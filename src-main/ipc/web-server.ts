/**
 * `tsuzuki serve`: the built renderer over HTTP plus the WebSocket transport, on loopback only.
 * The page is served only with the per-launch token in its URL; it passes the token on to the WebSocket.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TsuzukiError } from '../util/errors';
import { contentSecurityPolicy, readStatic } from '../util/static-files';
import type { ContractShape } from './contract';
import type { Router } from './router';
import { attachWebSocket, tokenMatches } from './transport-ws';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

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
}): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) {
    throw new TsuzukiError('invalid_argument', `Refusing to listen on ${host}: tsuzuki serve only listens on loopback (127.0.0.1, ::1).`);
  }
  const token = randomBytes(24).toString('base64url');
  const server: Server = createServer(async (req, res) => {
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
      const hostHeader = req.headers.host ?? `${host}`;
      res.writeHead(200, {
        'content-type': file.type,
        'content-security-policy': contentSecurityPolicy([`ws://${hostHeader}`]),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    } catch {
      res.writeHead(500).end();
    }
  });
  attachWebSocket(server, options.router, token);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
