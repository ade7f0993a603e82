/**
 * Hugging Face hub client: a repo's files at a revision (sizes, checksums, commit) through the hub API, with the
 * fallbacks mirrors need, and the choice of the files a GPT-2 checkpoint needs. Downloading is `download.ts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { TsuzukiError } from '../../contract/errors';
import { createDigester, digestFromHex, type Digest } from '../format/checksum';
import { HubHttp, isRetryable, type HubHttpOptions, type HubTarget } from './http';

export interface HubFile {
  path: string;
  size: number;
  /** The hub's checksum of the content: sha256 (LFS oid) or git blob sha1. */
  digest: Digest;
}

/** A file as the repo listing shows it; a mirror may leave out the size or checksum (then `fileMetadata` asks). */
export interface ListedFile {
  path: string;
  size: number | null;
  digest: Digest | null;
}

export interface RepoSnapshot {
  repo: string;
  revision: string;
  commit: string;
  files: ListedFile[];
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

export function checkRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new TsuzukiError('invalid_argument', `"${repo}" is not a Hugging Face repo id. Use the form org/name, e.g. rinna/japanese-gpt-1b.`);
  }
}

const siblingSchema = z.object({
  rfilename: z.string(),
  size: z.number().optional(),
  blobId: z.string().optional(),
  lfs: z.object({ sha256: z.string().optional(), oid: z.string().optional(), size: z.number().optional() }).nullish(),
});
const modelInfoSchema = z.object({ sha: z.string().optional(), siblings: z.array(siblingSchema).default([]) });
/** Largest file accepted without a checksum from the hub (configs and tokenizer files, never weights). */
const UNPUBLISHED_CHECKSUM_LIMIT = 16 << 20;
const treeSchema = z.array(
  z.object({ type: z.string(), path: z.string(), size: z.number().optional(), oid: z.string().optional(), lfs: z.object({ oid: z.string(), size: z.number() }).nullish() }),
);

export interface HubClientOptions extends HubHttpOptions {
  /** Consecutive failed attempts per file before giving up (an attempt that made progress resets the count). */
  retries?: number;
  /** First back-off delay; it doubles per failed attempt, up to 30 s. */
  retryDelayMs?: number;
  /** How many times a file whose checksum did not match is downloaded again from scratch. */
  checksumRetries?: number;
}

export class HubClient {
  readonly http: HubHttp;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly checksumRetries: number;

  constructor(options: HubClientOptions = {}) {
    this.http = new HubHttp(options);
    this.retries = options.retries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.checksumRetries = options.checksumRetries ?? 2;
  }

  get endpoint(): string {
    return this.http.endpoint;
  }

  resolveUrl(repo: string, revision: string, path: string): string {
    return this.http.url(`/${repo}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`);
  }

  /** The repo's files at a revision, with sizes and checksums, and the commit the revision points to. */
  async snapshot(repo: string, revision: string, signal?: AbortSignal, options: { retry?: boolean } = {}): Promise<RepoSnapshot> {
    checkRepoId(repo);
    const once = async (): Promise<RepoSnapshot> => {
      const res = await this.http.request(this.http.url(`/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`), { signal });
      // A 404 without the hub's error code means the route itself is missing (some mirrors): list the tree instead.
      if (res.status === 404 && !res.headers['x-error-code']) {
        await res.body.dump().catch(() => undefined);
        return this.treeSnapshot(repo, revision, signal);
      }
      if (res.status !== 200) throw await this.http.error(res, { repo, revision });
      const parsed = modelInfoSchema.safeParse(await res.body.json().catch(() => null));
      if (!parsed.success) {
        throw new TsuzukiError('network', `The hub at ${this.endpoint} answered the model info of ${repo} in an unexpected shape. Check HF_ENDPOINT.`);
      }
      const files: ListedFile[] = parsed.data.siblings.map((s) => ({
        path: s.rfilename,
        size: s.lfs?.size ?? s.size ?? null,
        // For an LFS file `blobId` is the pointer's id, never the content's: only the LFS oid will do.
        digest: s.lfs ? digestFromHex(s.lfs.sha256 ?? s.lfs.oid ?? '') : s.blobId ? digestFromHex(s.blobId) : null,
      }));
      return { repo, revision, commit: parsed.data.sha ?? (await this.commitOf(repo, revision, files, signal)), files };
    };
    return options.retry === false ? once() : this.withRetries(once, signal);
  }

  /** The files from `/api/models/{repo}/tree/{rev}` (paged with `Link: <…>; rel="next"`); the commit from the resolve headers. */
  private async treeSnapshot(repo: string, revision: string, signal?: AbortSignal): Promise<RepoSnapshot> {
    const files: ListedFile[] = [];
    let url: string | null = this.http.url(`/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`);
    for (let page = 0; url && page < 1000; page++) {
      const res = await this.http.request(url, { signal });
      if (res.status !== 200) throw await this.http.error(res, { repo, revision });
      const parsed = treeSchema.safeParse(await res.body.json().catch(() => null));
      if (!parsed.success) throw new TsuzukiError('network', `The hub at ${this.endpoint} answered the file list of ${repo} in an unexpected shape. Check HF_ENDPOINT.`);
      for (const e of parsed.data) {
        if (e.type !== 'file') continue;
        files.push({ path: e.path, size: e.lfs?.size ?? e.size ?? null, digest: e.lfs ? digestFromHex(e.lfs.oid) : e.oid ? digestFromHex(e.oid) : null });
      }
      const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.link ?? '');
      url = next ? new URL(next[1]!, url).href : null;
    }
    return { repo, revision, commit: await this.commitOf(repo, revision, files, signal), files };
  }

  /** The commit a revision points to, from `X-Repo-Commit` of one of its files (else the revision itself). */
  private async commitOf(repo: string, revision: string, files: ListedFile[], signal?: AbortSignal): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(revision) || files.length === 0) return revision;
    const probe = files.find((f) => f.path === 'config.json')?.path ?? files[0]!.path;
    const res = await this.http.request(this.resolveUrl(repo, revision, probe), { method: 'HEAD', signal, followRedirects: false });
    await res.body.dump().catch(() => undefined);
    return res.headers['x-repo-commit'] ?? revision;
  }

  /** Size and checksum of one file from the headers of `resolve/<commit>/<file>` (the redirect itself carries them). */
  async fileMetadata(repo: string, commit: string, path: string, signal?: AbortSignal): Promise<HubFile> {
    const target: HubTarget = { repo, revision: commit, file: path };
    return this.withRetries(async () => {
      let url = this.resolveUrl(repo, commit, path);
      for (let hop = 0; hop < 5; hop++) {
        const res = await this.http.request(url, { method: 'HEAD', signal, followRedirects: false });
        await res.body.dump().catch(() => undefined);
        const h = res.headers;
        const location = h.location ? new URL(h.location, url) : null;
        // A redirect without the file's headers (a renamed repo, or a plain mirror): ask where it points.
        if (res.status >= 300 && res.status < 400 && location && !h['x-linked-etag']) {
          url = location.href;
          continue;
        }
        if (res.status >= 400) throw await this.http.error(res, target);
        const digest = digestFromHex(h['x-linked-etag'] ?? h.etag ?? '');
        const size = Number(h['x-linked-size'] ?? h['content-length'] ?? NaN);
        if (digest && Number.isFinite(size)) return { path, size, digest };
        if (h['x-linked-etag'] || h['x-linked-size'] || size > UNPUBLISHED_CHECKSUM_LIMIT) {
          throw new TsuzukiError('network', `The hub did not say the size and checksum of "${path}" in ${repo}; it cannot be verified. Try again or use another endpoint.`);
        }
        // A small non-LFS file with no checksum published (a mirror with its own ETags): fetch it once and pin
        // its sha256, as huggingface_hub does not verify such files either.
        const body = await this.http.request(url, { signal });
        if (body.status !== 200) throw await this.http.error(body, target);
        const data = Buffer.from(await body.body.arrayBuffer());
        if (data.length > UNPUBLISHED_CHECKSUM_LIMIT) throw new TsuzukiError('network', `"${path}" in ${repo} is large and has no published checksum; it cannot be verified.`);
        return { path, size: data.length, digest: { algorithm: 'sha256', value: createDigester('sha256', data.length).update(data).digest('hex') } };
      }
      throw new TsuzukiError('network', `Too many redirects for "${path}" in ${repo}.`);
    }, signal);
  }

  /** A small file's text (e.g. a sharded checkpoint's index). */
  async readText(repo: string, commit: string, path: string, signal?: AbortSignal): Promise<string> {
    return this.withRetries(async () => {
      const res = await this.http.request(this.resolveUrl(repo, commit, path), { signal });
      if (res.status !== 200) throw await this.http.error(res, { repo, revision: commit, file: path });
      return res.body.text();
    }, signal);
  }

  async withRetries<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (signal?.aborted || !isRetryable(error) || attempt > this.retries) throw error;
        await sleep(backoff(this.retryDelayMs, attempt), undefined, { signal });
      }
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** Exponential back-off with jitter: `base`, then twice as long per failed attempt, at most 30 s. */
export function backoff(base: number, attempt: number): number {
  return Math.min(base * 2 ** (attempt - 1), 30_000) * (0.75 + Math.random() / 4);
}

// ---------------------------------------------------------------------------------------------------------------
// Which files a GPT-2-style checkpoint needs

const TOKENIZER_FILES = ['spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json'];
const SAFE_NAME = /^[A-Za-z0-9_][\w.-]*$/;

/**
 * `config.json`, the SentencePiece model and the tokenizer configs that exist, and ONE set of weights:
 * `model.safetensors`, else a sharded safetensors index with its shards, else `pytorch_model.bin`.
 */
export async function selectModelFiles(
  snapshot: RepoSnapshot,
  readIndex: (path: string) => Promise<string>,
): Promise<string[]> {
  const names = new Set(snapshot.files.map((f) => f.path));
  const where = `${snapshot.repo}@${snapshot.revision}`;
  if (!names.has('config.json')) throw new TsuzukiError('unsupported', `${where} has no config.json: it is not a transformers checkpoint Tsuzuki can convert.`);
  if (!names.has('spiece.model')) {
    throw new TsuzukiError('unsupported', `${where} has no spiece.model: Tsuzuki's tokenizer reads SentencePiece models only (as rinna's GPT-2 models use).`);
  }
  const picked = ['config.json', ...TOKENIZER_FILES.filter((n) => names.has(n))];
  if (names.has('model.safetensors')) return [...picked, 'model.safetensors'];
  if (names.has('model.safetensors.index.json')) {
    const index = JSON.parse(await readIndex('model.safetensors.index.json')) as { weight_map?: Record<string, string> };
    const shards = [...new Set(Object.values(index.weight_map ?? {}))];
    const bad = shards.filter((s) => !SAFE_NAME.test(s) || !names.has(s));
    if (shards.length === 0 || bad.length > 0) {
      throw new TsuzukiError('corrupt_file', `model.safetensors.index.json of ${where} names shards that are not in the repo (${bad.join(', ') || 'none at all'}).`);
    }
    return [...picked, 'model.safetensors.index.json', ...shards.sort()];
  }
  if (names.has('pytorch_model.bin')) return [...picked, 'pytorch_model.bin'];
  throw new TsuzukiError('unsupported', `${where} has no model.safetensors, sharded safetensors or pytorch_model.bin: no weights Tsuzuki can read.`);
}
