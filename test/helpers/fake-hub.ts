/**
 * A local stand-in for huggingface.co on 127.0.0.1: the model-info API, `resolve/<rev>/<file>` (LFS files redirect
 * to a second "CDN" server, as the real hub does), hub headers, `Range` — and faults on request: drop the
 * connection mid-file, stall, answer an error status, serve wrong bytes. It counts every body byte it serves.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  id: string;
  commit: string;
  /** Branch or tag name → commit (the repo's own `commit` is always `main` unless set here). */
  refs?: Record<string, string>;
  files: Record<string, Buffer | string>;
  /** Requests must carry `Authorization: Bearer <token>`; without it the repo answers 401 (gated). */
  token?: string;
}

export type Fault =
  | { kind: 'drop'; afterBytes: number }
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'status'; status: number }
  | { kind: 'corrupt' }
  /** Answer a Range request with the whole file (200), as some servers do. */
  | { kind: 'ignore-range' };

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  url: string;
  range: string | null;
  authorization: string | null;
}

interface StoredFile {
  repo: FakeRepo;
  path: string;
  data: Buffer;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function gitBlobSha1(data: Buffer | string): string {
  const buf = Buffer.from(data);
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

const isLfs = (path: string, data: Buffer) => /\.(safetensors|bin|model|onnx)$/.test(path) || data.length > 10_000;

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  /** Body bytes served per file path. */
  readonly served = new Map<string, number>();
  /** Answer the model-info API without sizes and checksums (as some mirrors do). */
  omitBlobDetails = false;
  /** Have no `/api/models/{repo}/revision/{rev}` route (plain 404), only the paged tree API. */
  treeOnly = false;
  /** Give small (git) files weak ETags that are not checksums, as a plain web server would. */
  weakEtags = false;
  private readonly faults = new Map<string, Fault[]>();
  private readonly blobs = new Map<string, StoredFile>();
  private scheme: 'http' | 'https' = 'http';
  private hub!: Server;
  private cdn!: Server;

  private constructor(private readonly repos: FakeRepo[]) {
    for (const repo of repos) for (const path of Object.keys(repo.files)) this.store(repo, path);
  }

  /** `tls` serves both hosts over HTTPS with that certificate. */
  static async start(repos: FakeRepo[], options: { tls?: { key: string; cert: string } } = {}): Promise<FakeHub> {
    const hub = new FakeHub(repos);
    hub.scheme = options.tls ? 'https' : 'http';
    hub.hub = await listen((req, res) => hub.onHub(req, res), options.tls);
    hub.cdn = await listen((req, res) => hub.onCdn(req, res), options.tls);
    return hub;
  }

  get endpoint(): string {
    return `${this.scheme}://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
  }

  get cdnOrigin(): string {
    return `${this.scheme}://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  /** Queue a fault for the next request(s) of a file's content. */
  fault(path: string, ...faults: Fault[]): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...faults]);
  }

  /** Replace a file's content (a new upload) — same commit, for tests of stale partials. */
  setFile(repo: FakeRepo, path: string, data: Buffer | string): void {
    repo.files[path] = data;
    this.store(repo, path);
  }

  info(repo: FakeRepo, path: string): StoredFile {
    const f = this.blobs.get(`${repo.id}\0${path}`);
    if (!f) throw new Error(`no ${path} in ${repo.id}`);
    return f;
  }

  servedTotal(): number {
    let n = 0;
    for (const v of this.served.values()) n += v;
    return n;
  }

  async close(): Promise<void> {
    for (const server of [this.hub, this.cdn]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private store(repo: FakeRepo, path: string): void {
    const data = toBuffer(repo.files[path]!);
    repo.files[path] = data;
    const file: StoredFile = { repo, path, data, sha256: sha256(data), gitSha1: gitBlobSha1(data), lfs: isLfs(path, data) };
    this.blobs.set(`${repo.id}\0${path}`, file);
    this.blobs.set(`sha256:${file.sha256}`, file);
  }

  private log(server: 'hub' | 'cdn', req: IncomingMessage): void {
    this.requests.push({ server, method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range ?? null, authorization: req.headers.authorization ?? null });
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    this.log('hub', req);
    const url = new URL(req.url ?? '/', this.endpoint);
    const path = decodeURIComponent(url.pathname);
    const tree = /^\/api\/models\/(.+?)\/tree\/(.+)$/.exec(url.pathname);
    if (tree) {
      const repo = this.repos.find((r) => r.id === decodeURIComponent(tree[1]!));
      if (!this.allowed(repo, req, res)) return;
      if (!this.commitOf(repo!, decodeURIComponent(tree[2]!))) return error(res, 404, 'RevisionNotFound', 'Invalid rev id');
      const entries = Object.keys(repo!.files).map((p) => {
        const f = this.blobs.get(`${repo!.id}\0${p}`)!;
        return { type: 'file', oid: f.gitSha1, size: f.data.length, path: p, ...(f.lfs ? { lfs: { oid: f.sha256, size: f.data.length, pointerSize: 134 } } : {}) };
      });
      // Pages of 3 entries, linked as the hub does.
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const next = cursor + 3 < entries.length ? { link: `<${url.pathname}?recursive=true&cursor=${cursor + 3}>; rel="next"` } : {};
      res.writeHead(200, { 'content-type': 'application/json', ...next }).end(JSON.stringify([{ type: 'directory', oid: 'x', size: 0, path: 'sub' }, ...entries.slice(cursor, cursor + 3)]));
      return;
    }
    const api = /^\/api\/models\/(.+?)\/revision\/(.+)$/.exec(url.pathname);
    if (api && this.treeOnly) return error(res, 404, null, 'Not Found');
    if (api) {
      const repo = this.repos.find((r) => r.id === decodeURIComponent(api[1]!));
      if (!this.allowed(repo, req, res)) return;
      const commit = this.commitOf(repo!, decodeURIComponent(api[2]!));
      if (!commit) return error(res, 404, 'RevisionNotFound', 'Invalid rev id');
      const blobs = url.searchParams.get('blobs') === 'true' && !this.omitBlobDetails;
      const siblings = Object.keys(repo!.files).map((p) => {
        const f = this.blobs.get(`${repo!.id}\0${p}`)!;
        if (!blobs) return { rfilename: p };
        return { rfilename: p, size: f.data.length, blobId: f.gitSha1, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.data.length, pointerSize: 134 } } : {}) };
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ _id: 'x', id: repo!.id, sha: commit, siblings }));
      return;
    }
    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (!resolve) return error(res, 404, null, 'Not Found');
    const repo = this.repos.find((r) => r.id === resolve[1]);
    if (!this.allowed(repo, req, res)) return;
    const commit = this.commitOf(repo!, resolve[2]!);
    if (!commit) return error(res, 404, 'RevisionNotFound', 'Invalid rev id');
    const file = this.blobs.get(`${repo!.id}\0${resolve[3]}`);
    if (!file) return error(res, 404, 'EntryNotFound', 'Entry not found');
    const headers = { 'x-repo-commit': commit, etag: this.weakEtags && !file.lfs ? `W/"${file.data.length.toString(16)}-5f3e"` : `"${file.gitSha1}"` };
    if (file.lfs) {
      res.writeHead(302, {
        ...headers,
        'x-linked-etag': `"${file.sha256}"`,
        'x-linked-size': String(file.data.length),
        location: `${this.cdnOrigin}/blobs/${file.sha256}?expires=1`,
      });
      res.end();
      return;
    }
    this.serve(file, req, res, headers);
  }

  private onCdn(req: IncomingMessage, res: ServerResponse): void {
    this.log('cdn', req);
    // A CDN must never see the user's hub token.
    if (req.headers.authorization) return error(res, 400, null, 'Authorization header sent to the CDN');
    const m = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? '');
    const file = m ? this.blobs.get(`sha256:${m[1]}`) : undefined;
    if (!file) return error(res, 404, null, 'No such blob');
    this.serve(file, req, res, { etag: `"${file.sha256}"` });
  }

  private allowed(repo: FakeRepo | undefined, req: IncomingMessage, res: ServerResponse): boolean {
    if (!repo) {
      error(res, 404, 'RepoNotFound', 'Repository not found');
      return false;
    }
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      error(res, 401, 'GatedRepo', 'Access to this model is restricted');
      return false;
    }
    return true;
  }

  private commitOf(repo: FakeRepo, rev: string): string | null {
    const refs: Record<string, string> = { main: repo.commit, ...repo.refs };
    if (Object.values(refs).includes(rev)) return rev;
    return refs[rev] ?? null;
  }

  private serve(file: StoredFile, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
    const fault = this.faults.get(file.path)?.shift();
    if (fault?.kind === 'status') return error(res, fault.status, null, 'Injected failure');
    const size = file.data.length;
    let start = 0;
    let end = size - 1;
    const range = fault?.kind === 'ignore-range' ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
    }
    let body = file.data.subarray(start, end + 1);
    if (fault?.kind === 'corrupt') {
      body = Buffer.from(body);
      const middle = body.length >> 1;
      body[middle] = body[middle]! ^ 0xff;
    }
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(body.length),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const count = (n: number) => this.served.set(file.path, (this.served.get(file.path) ?? 0) + n);
    if (fault?.kind === 'drop' || fault?.kind === 'stall') {
      const head = body.subarray(0, fault.afterBytes);
      count(head.length);
      res.write(head, () => {
        if (fault.kind === 'drop') res.socket?.destroy();
      });
      return;
    }
    count(body.length);
    res.end(body);
  }
}

function toBuffer(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

function error(res: ServerResponse, status: number, code: string | null, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(code ? { 'x-error-code': code, 'x-error-message': message } : {}) });
  res.end(JSON.stringify({ error: message }));
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, tls?: { key: string; cert: string }): Promise<Server> {
  const server = tls ? createTlsServer(tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Deterministic pseudo-random bytes (a stand-in for weights). */
export function randomBytesSeeded(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
