/**
 * HTTP for the Hugging Face hub: proxy-aware (undici), redirects followed by hand so the token never leaves the
 * hub's origin, stall detection, and hub error answers turned into errors that tell the user what to do.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { TsuzukiError } from '../../contract/errors';

const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubHttpOptions {
  /** Hub base URL (a mirror); default `HF_ENDPOINT`, then https://huggingface.co. */
  endpoint?: string;
  /** Access token for gated or private repos; default `HF_TOKEN`, then the token `huggingface-cli login` saved. */
  token?: string;
  /** Environment to read `HF_*` and proxy variables from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** A response that sends nothing for this long is treated as a dropped connection. */
  stallTimeoutMs?: number;
  /** Extra trusted CA certificates (PEM), e.g. for a company proxy or a private mirror. */
  ca?: string | string[];
}

export interface HubResponse {
  status: number;
  headers: Record<string, string>;
  /** The URL that answered, after redirects. */
  url: string;
  body: Dispatcher.ResponseData['body'];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

export class HubHttp {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly dispatcher: Dispatcher;

  constructor(options: HubHttpOptions = {}) {
    const env = options.env ?? process.env;
    this.endpoint = (options.endpoint || env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
    try {
      new URL(this.endpoint);
    } catch {
      throw new TsuzukiError('invalid_argument', `The hub endpoint "${this.endpoint}" is not a URL. Use e.g. https://huggingface.co or your mirror's address.`);
    }
    this.token = options.token || env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
    // The token `huggingface-cli login` saved is for huggingface.co only: a mirror must be given one explicitly.
    if (!this.token && new URL(this.endpoint).origin === DEFAULT_ENDPOINT) this.token = savedToken(env);
    // huggingface_hub's read timeout (HF_HUB_DOWNLOAD_TIMEOUT, seconds) is the stall limit here too.
    const stall = options.stallTimeoutMs ?? (Number(env.HF_HUB_DOWNLOAD_TIMEOUT) > 0 ? Number(env.HF_HUB_DOWNLOAD_TIMEOUT) * 1000 : 10_000);
    // Empty strings (not undefined) so that only `env` decides, never a process.env the caller did not pass.
    this.dispatcher = new EnvHttpProxyAgent({
      httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
      httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
      noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
      headersTimeout: stall,
      bodyTimeout: stall,
      ...(options.ca ? { connect: { ca: options.ca }, requestTls: { ca: options.ca } } : {}),
    });
  }

  url(path: string): string {
    return `${this.endpoint}${path}`;
  }

  /**
   * One request, following redirects. `Authorization` goes only to the hub's own origin: a redirect to a CDN
   * (another host) must not carry the user's token. Stops at the first redirect when `followRedirects` is false.
   */
  async request(
    url: string,
    init: { method?: 'GET' | 'HEAD'; headers?: Record<string, string>; signal?: AbortSignal; followRedirects?: boolean } = {},
  ): Promise<HubResponse> {
    const hubOrigin = new URL(this.endpoint).origin;
    let current = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'tsuzuki', ...init.headers };
      if (this.token && new URL(current).origin === hubOrigin) headers.authorization = `Bearer ${this.token}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, { method: init.method ?? 'GET', headers, signal: init.signal, dispatcher: this.dispatcher });
      } catch (error) {
        throw networkError(error, current, init.signal);
      }
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode) && typeof location === 'string' && init.followRedirects !== false) {
        await res.body.dump().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) throw new TsuzukiError('network', `Too many redirects while fetching ${url}.`);
        current = new URL(location, current).href;
        continue;
      }
      return { status: res.statusCode, headers: flatten(res.headers), url: current, body: res.body };
    }
  }

  /** Turns a hub error answer (401/403/404/5xx…) into an error that says what is missing and what to do. */
  async error(res: HubResponse, what: HubTarget): Promise<TsuzukiError> {
    const text = await res.body.text().catch(() => '');
    const code = res.headers['x-error-code'] ?? '';
    const detail = res.headers['x-error-message'] ?? messageOf(text);
    const file = what.file ? `"${what.file}" of ` : '';
    const fromHub = new URL(res.url).origin === new URL(this.endpoint).origin;
    // The hub answers 401 for a missing repo too (it cannot tell "missing" from "private" to a stranger).
    if (code === 'RepoNotFound') {
      return new TsuzukiError(
        'not_found',
        `Repository ${what.repo} was not found on ${this.endpoint}. Check the repo id; if it is private, set HF_TOKEN to a token that can read it.`,
      );
    }
    if ((res.status === 401 || res.status === 403) && fromHub) {
      return new TsuzukiError(
        'unauthorized',
        `${what.repo} is gated or private (HTTP ${res.status}${code ? `, ${code}` : ''}). Set HF_TOKEN to a Hugging Face access token ` +
          `and accept the model's license at ${this.endpoint}/${what.repo}, then run the download again.`,
      );
    }
    if (res.status === 404) {
      const kind = code === 'RevisionNotFound' ? `revision "${what.revision}" of ${what.repo}` : code === 'RepoNotFound' ? `repository ${what.repo}` : `${file}${what.repo}@${what.revision}`;
      return new TsuzukiError('not_found', `Not found on the hub: ${kind}${detail ? ` (${detail})` : ''}. Check the repo id, the file name and --revision.`);
    }
    // Anything else — 5xx, 429, or a CDN refusing an expired download link — may pass: retryable.
    return new TsuzukiError(
      'network',
      `${fromHub ? 'The hub' : new URL(res.url).host} answered HTTP ${res.status} for ${file}${what.repo}@${what.revision}${detail ? ` (${detail})` : ''}. Try again later.`,
    );
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

export interface HubTarget {
  repo: string;
  revision: string;
  file?: string;
}

/** Whether an error may go away by trying again: network trouble and server-side (5xx, 429) failures. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TsuzukiError && error.code === 'network';
}

function savedToken(env: NodeJS.ProcessEnv): string | undefined {
  const path = env.HF_TOKEN_PATH || join(env.HF_HOME || join(homedir(), '.cache', 'huggingface'), 'token');
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function networkError(error: unknown, url: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason ?? error;
  if (error instanceof TsuzukiError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const host = new URL(url).host;
  const stalled = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return new TsuzukiError(
    'network',
    stalled
      ? `The connection to ${host} stalled (no data for too long). Check your network; the download resumes where it stopped.`
      : `Could not reach ${host} (${code || message}). Check your network or proxy (HTTPS_PROXY); the download resumes where it stopped.`,
    { cause: error },
  );
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : '';
  } catch {
    return text.slice(0, 200).trim();
  }
}
