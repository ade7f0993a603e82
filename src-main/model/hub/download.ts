/**
 * Downloads a model's files so that an interruption never costs finished bytes and a bad byte never reaches the
 * model folder: `<file>.partial` grows with `Range` requests, is hashed as it streams, and is renamed into place
 * only when its checksum matches the hub's (LFS sha256 or git blob sha1). Files already in place or in the
 * Hugging Face cache are verified and reused; the folder's manifest is written last.
 */
import { createReadStream } from 'node:fs';
import { constants, copyFile, link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { TsuzukiError } from '../../contract/errors';
import { createDigester, verifyFile, type Digest } from '../format/checksum';
import { freeSpace as defaultFreeSpace, formatBytes, type FreeSpaceProbe } from '../../util/disk';
import { findCachedFile, findCachedSnapshot, hfCacheDirs } from './hf-cache';
import { backoff, HubClient, selectModelFiles, type HubClientOptions, type HubFile, type RepoSnapshot } from './client';
import { isRetryable } from './http';
import { fileNameProblem } from '../format/manifest';

/** Written last into a download folder: its presence means every file is there and verified. */
export const SOURCE_MANIFEST = 'tsuzuki-source.json';

export const sourceManifestSchema = z.object({
  /** Null for a checkpoint imported from a local folder of unknown origin. */
  repo: z.string().nullable(),
  revision: z.string(),
  commit: z.string(),
  endpoint: z.string().nullable(),
  files: z.array(
    z.object({
      // Files of the folder itself, as the manifest of a converted model names them.
      path: z.string().refine((p) => fileNameProblem(p) === null, { error: (issue) => `${JSON.stringify(issue.input)} is not a plain file name` }),
      size: z.number(),
      algorithm: z.enum(['sha256', 'git-sha1']),
      digest: z.string(),
    }),
  ),
  completedAt: z.string(),
});
export type SourceManifest = z.infer<typeof sourceManifestSchema>;

type DownloadPhase = 'resolving' | 'checking' | 'downloading' | 'verifying' | 'paused' | 'done';

export interface DownloadProgress {
  repo: string;
  phase: DownloadPhase;
  /** The file being worked on, with its bytes in place and its size. */
  file: string | null;
  fileBytes: number;
  fileTotal: number;
  /** Bytes already in place (finished, reused or in partial files) out of `total`. */
  bytes: number;
  total: number;
  /** Recent network speed in bytes per second. */
  speed: number;
  /** Seconds left at the recent speed; null while unknown. */
  etaSeconds: number | null;
  filesDone: number;
  filesTotal: number;
}

interface DownloadedFile {
  path: string;
  size: number;
  digest: Digest;
  /** Where the bytes came from: the network, the Hugging Face cache, or already in the destination. */
  from: 'hub' | 'hf-cache' | 'existing';
}

interface DownloadResult {
  repo: string;
  revision: string;
  commit: string;
  dir: string;
  files: DownloadedFile[];
}

export interface DownloadOptions {
  repo: string;
  revision?: string;
  /** Destination folder (Hugging Face layout: the repo's files side by side). */
  dest: string;
  /** Explicit files instead of `selectModelFiles`. */
  files?: string[];
  client?: HubClient;
  clientOptions?: HubClientOptions;
  /** Hugging Face cache folders to reuse; default `hfCacheDirs()`; [] turns reuse off. */
  hfCacheDirs?: string[];
  freeSpace?: FreeSpaceProbe;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Minimum time between two `downloading` progress events. */
  progressIntervalMs?: number;
}

export interface DownloadHandle {
  readonly done: Promise<DownloadResult>;
  readonly state: 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
  /** Stops the transfer but keeps the partial files; `resume()` continues from them. */
  pause(): void;
  resume(): void;
  /** Stops and removes the partial files and whatever this download put in place. */
  cancel(): void;
}

class Interrupt extends Error {
  constructor(readonly kind: 'pause' | 'cancel') {
    super(kind === 'pause' ? 'Download paused.' : 'Download cancelled.');
  }
}

/** Starts a download; the handle controls it, `done` settles with the verified files. */
export function downloadModel(options: DownloadOptions): DownloadHandle {
  return new DownloadJob(options);
}

class DownloadJob implements DownloadHandle {
  readonly done: Promise<DownloadResult>;
  state: DownloadHandle['state'] = 'running';
  private controller = new AbortController();
  private wake: (() => void) | null = null;
  private readonly client: HubClient;
  private readonly ownsClient: boolean;
  private readonly created = new Set<string>();
  private partials: string[] = [];
  private readonly progress: DownloadProgress;
  private lastEmit = 0;
  private readonly samples: Array<{ t: number; received: number }> = [];
  private received = 0;
  private fileBytes = new Map<string, number>();
  private readonly sizes = new Map<string, number>();
  private readonly verified = new Set<string>();
  private trailing: NodeJS.Timeout | null = null;

  constructor(private readonly options: DownloadOptions) {
    this.ownsClient = !options.client;
    this.client = options.client ?? new HubClient(options.clientOptions);
    this.progress = { repo: options.repo, phase: 'resolving', file: null, fileBytes: 0, fileTotal: 0, bytes: 0, total: 0, speed: 0, etaSeconds: null, filesDone: 0, filesTotal: 0 };
    if (options.signal?.aborted) this.cancel();
    options.signal?.addEventListener('abort', () => this.cancel(), { once: true });
    this.done = this.locked().finally(() => (this.ownsClient ? this.client.close() : undefined));
    this.done.catch(() => undefined);
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.state = 'paused';
    this.controller.abort(new Interrupt('pause'));
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    this.controller = new AbortController();
    this.wake?.();
  }

  cancel(): void {
    if (this.state !== 'running' && this.state !== 'paused') return;
    const wasPaused = this.state === 'paused';
    this.state = 'cancelled';
    this.controller.abort(new Interrupt('cancel'));
    if (wasPaused) this.wake?.();
  }

  /** One download per folder, across processes too (the app and the CLI must not append to the same partial). */
  private async locked(): Promise<DownloadResult> {
    // Let the caller hold the handle before the first progress event.
    await Promise.resolve();
    const lock = join(this.options.dest, LOCK_FILE);
    try {
      await mkdir(this.options.dest, { recursive: true });
      await takeLock(lock, this.options.dest);
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
    try {
      return await this.run();
    } finally {
      await rm(lock, { force: true });
    }
  }

  private async run(): Promise<DownloadResult> {
    for (;;) {
      const signal = this.controller.signal;
      try {
        if (this.state === 'cancelled') throw new Interrupt('cancel');
        const result = await this.attempt(signal);
        if (this.state !== 'running') throw new Interrupt(this.state === 'paused' ? 'pause' : 'cancel');
        this.state = 'done';
        return result;
      } catch (error) {
        if (this.state === 'paused' || (this.state === 'running' && signal.reason instanceof Interrupt)) {
          if (this.state === 'paused') {
            this.emit({ phase: 'paused' }, true);
            await new Promise<void>((resolve) => (this.wake = resolve));
            this.wake = null;
          }
          // `state` changes while we wait (resume or cancel), which TypeScript's narrowing cannot see.
          if ((this.state as DownloadHandle['state']) !== 'cancelled') continue;
        }
        if ((this.state as DownloadHandle['state']) === 'cancelled') {
          await this.cleanUp();
          throw new TsuzukiError('cancelled', `Download of ${this.options.repo} cancelled; its partial files were removed.`);
        }
        this.state = 'failed';
        throw error;
      }
    }
  }

  /** Removes partial files and what this job put in place, so nothing half-done looks complete. */
  private async cleanUp(): Promise<void> {
    for (const p of [...this.partials, ...this.created]) await rm(p, { force: true });
    await rm(join(this.options.dest, SOURCE_MANIFEST), { force: true });
  }

  private async attempt(signal: AbortSignal): Promise<DownloadResult> {
    const { repo, dest } = this.options;
    const revision = this.options.revision ?? 'main';
    const cacheDirs = this.options.hfCacheDirs ?? hfCacheDirs(this.options.clientOptions?.env);
    this.fileBytes = new Map();
    this.emit({ phase: 'resolving' }, true);

    // Offline (HF_HUB_OFFLINE, or the hub cannot be reached): a complete cached snapshot still does, without
    // first sitting through the retries.
    if (isTruthy((this.options.clientOptions?.env ?? process.env).HF_HUB_OFFLINE)) {
      const offline = await this.offlineFromCache(cacheDirs, revision, signal);
      if (offline) return offline;
      throw new TsuzukiError('not_found', `HF_HUB_OFFLINE is set and the Hugging Face cache has no complete copy of ${repo}@${revision}. Unset HF_HUB_OFFLINE to download it.`);
    }
    let snapshot: RepoSnapshot;
    try {
      snapshot = await this.client.snapshot(repo, revision, signal, { retry: false });
    } catch (error) {
      if (signal.aborted || !isRetryable(error)) throw error;
      const offline = await this.offlineFromCache(cacheDirs, revision, signal);
      if (offline) return offline;
      snapshot = await this.client.snapshot(repo, revision, signal);
    }
    const wanted = this.options.files ?? (await selectModelFiles(snapshot, (p) => this.client.readText(repo, snapshot.commit, p, signal)));
    const files: HubFile[] = [];
    for (const name of wanted) {
      const listed = snapshot.files.find((f) => f.path === name);
      if (!listed) throw new TsuzukiError('not_found', `"${name}" is not in ${repo}@${revision}.`);
      // Mirrors may leave out the `blobs=true` details: then ask the file itself, as huggingface_hub does.
      files.push(listed.size !== null && listed.digest ? { path: name, size: listed.size, digest: listed.digest } : await this.client.fileMetadata(repo, snapshot.commit, name, signal));
    }
    await mkdir(dest, { recursive: true });
    this.partials = files.flatMap((f) => [partialPath(dest, f.path), partialPath(dest, f.path) + '.json']);

    // Plan: what is already in place, what the HF cache has, and what must come over the network.
    this.progress.total = files.reduce((n, f) => n + f.size, 0);
    for (const f of files) this.sizes.set(f.path, f.size);
    this.progress.filesTotal = files.length;
    const results: DownloadedFile[] = [];
    const toFetch: HubFile[] = [];
    const fromCache: Array<{ file: HubFile; path: string }> = [];
    this.progress.filesDone = 0;
    for (const file of files) {
      this.emit({ phase: 'checking', file: file.path }, true);
      const target = join(dest, file.path);
      if (await this.matches(target, file, signal)) {
        results.push({ ...file, from: 'existing' });
        this.fileDone(file);
        continue;
      }
      const cached = await findCachedFile(cacheDirs, repo, snapshot.commit, file.path, file.digest);
      if (cached && (await this.matches(cached, file, signal))) fromCache.push({ file, path: cached });
      else toFetch.push(file);
    }
    const partialBytes = new Map<string, number>();
    for (const f of toFetch) partialBytes.set(f.path, await usablePartial(dest, snapshot, f));
    let need = toFetch.reduce((n, f) => n + f.size - (partialBytes.get(f.path) ?? 0), 0);
    const destDevice = (await stat(dest)).dev;
    for (const c of fromCache) if ((await stat(c.path)).dev !== destDevice) need += c.file.size;
    const free = await (this.options.freeSpace ?? defaultFreeSpace)(dest);
    if (free < need) {
      throw new TsuzukiError(
        'disk_full',
        `Not enough disk space in ${dest}: the download needs ${formatBytes(need)} but only ${formatBytes(free)} is free. Free some space or choose another folder.`,
      );
    }

    // Files are about to change: an older manifest must not vouch for a half-updated folder.
    if (toFetch.length > 0 || fromCache.length > 0) await rm(join(dest, SOURCE_MANIFEST), { force: true });
    for (const { file, path } of fromCache) {
      signal.throwIfAborted();
      const target = join(dest, file.path);
      await placeFromCache(path, target);
      this.created.add(target);
      results.push({ ...file, from: 'hf-cache' });
      this.fileDone(file);
    }
    for (const file of toFetch) {
      this.fileBytes.set(file.path, partialBytes.get(file.path) ?? 0);
      await this.fetchFile(snapshot, file, signal);
      this.created.add(join(dest, file.path));
      results.push({ ...file, from: 'hub' });
      this.fileDone(file);
    }
    signal.throwIfAborted();
    const order = new Map(wanted.map((n, i) => [n, i]));
    results.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
    await writeManifest(dest, { repo, revision, commit: snapshot.commit, endpoint: this.client.endpoint }, results);
    this.emit({ phase: 'done', file: null }, true);
    return { repo, revision, commit: snapshot.commit, dir: dest, files: results };
  }

  /** No network: a complete snapshot in the HF cache still does, each file checked against its blob name. */
  private async offlineFromCache(cacheDirs: string[], revision: string, signal: AbortSignal): Promise<DownloadResult | null> {
    const { repo, dest } = this.options;
    const cached = await findCachedSnapshot(cacheDirs, repo, revision);
    if (!cached) return null;
    const files: HubFile[] = [];
    for (const [path, digest] of cached.files) {
      if (digest) files.push({ path, digest, size: (await stat(join(cached.dir, path))).size });
    }
    const snapshot: RepoSnapshot = { repo, revision, commit: cached.commit, files };
    let wanted: string[];
    try {
      wanted = this.options.files ?? (await selectModelFiles(snapshot, (p) => readFile(join(cached.dir, p), 'utf8')));
    } catch {
      return null;
    }
    if (!wanted.every((n) => files.some((f) => f.path === n))) return null;
    await mkdir(dest, { recursive: true });
    const results: DownloadedFile[] = [];
    for (const f of files) this.sizes.set(f.path, f.size);
    this.progress.total = wanted.reduce((n, name) => n + (files.find((f) => f.path === name)?.size ?? 0), 0);
    this.progress.filesTotal = wanted.length;
    for (const name of wanted) {
      const file = files.find((f) => f.path === name)!;
      const source = join(cached.dir, name);
      this.emit({ phase: 'verifying', file: name }, true);
      if (!(await verifyFile(source, file.digest, signal))) return null;
      const target = join(dest, name);
      if (!(await this.matches(target, file, signal))) {
        await placeFromCache(source, target);
        this.created.add(target);
      }
      results.push({ ...file, from: 'hf-cache' });
      this.fileDone(file);
    }
    await writeManifest(dest, { repo, revision, commit: cached.commit, endpoint: null }, results);
    this.emit({ phase: 'done', file: null }, true);
    return { repo, revision, commit: cached.commit, dir: dest, files: results };
  }

  private async matches(path: string, file: HubFile, signal: AbortSignal): Promise<boolean> {
    const s = await stat(path).catch(() => null);
    if (!s?.isFile() || s.size !== file.size) return false;
    const key = `${path}\0${file.digest.value}`;
    // After a pause, files this job already verified are not hashed again.
    if (this.verified.has(key)) return true;
    this.emit({ phase: 'verifying', file: file.path }, true);
    const ok = await verifyFile(path, file.digest, signal);
    if (ok) this.verified.add(key);
    return ok;
  }

  private fileDone(file: HubFile): void {
    this.fileBytes.set(file.path, file.size);
    this.progress.filesDone++;
    this.emit({ file: file.path }, true);
  }

  /** One file into `<file>.partial` (resuming what is there), verified, then renamed into place. */
  private async fetchFile(snapshot: RepoSnapshot, file: HubFile, signal: AbortSignal): Promise<void> {
    const { dest } = this.options;
    const target = join(dest, file.path);
    const partial = partialPath(dest, file.path);
    let failures = 0;
    let badChecksums = 0;
    for (;;) {
      let progressed = false;
      try {
        let offset = await usablePartial(dest, snapshot, file);
        await writeFile(partial + '.json', JSON.stringify(partialTag(snapshot, file)));
        this.fileBytes.set(file.path, offset);
        let hash = createDigester(file.digest.algorithm, file.size);
        if (offset > 0) {
          // Resume: the bytes already on disk go into the hash first (streamed, so the event loop keeps turning).
          this.emit({ phase: 'checking', file: file.path }, true);
          for await (const chunk of createReadStream(partial, { start: 0, end: offset - 1, highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
        }
        if (offset < file.size) {
          // Opened before the request so that the body is read the moment it arrives (see `drain`).
          const out = await open(partial, offset > 0 ? 'a' : 'w');
          let discard = false;
          try {
            const res = await this.client.http.request(this.client.resolveUrl(snapshot.repo, snapshot.commit, file.path), {
              headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
              signal,
            });
            const resumedWrong = res.status === 206 && !res.headers['content-range']?.startsWith(`bytes ${offset}-`);
            if (res.status === 416 || resumedWrong) {
              await res.body.dump().catch(() => undefined);
              discard = true;
              throw new TsuzukiError('network', `The server could not resume "${file.path}" at byte ${offset}; starting it again.`);
            }
            if (res.status !== 200 && res.status !== 206) throw await this.client.http.error(res, { repo: snapshot.repo, revision: snapshot.commit, file: file.path });
            // A 200 to a Range request means the server ignored it: start over.
            let restart = res.status === 200 && offset > 0;
            if (restart) {
              offset = 0;
              hash = createDigester(file.digest.algorithm, file.size);
            }
            this.emit({ phase: 'downloading', file: file.path }, true);
            await drain(res.body, async (buf) => {
              if (restart) {
                restart = false;
                await out.truncate(0);
              }
              if (offset + buf.length > file.size) throw new TsuzukiError('network', `The server sent more than the ${file.size} bytes of "${file.path}".`);
              await out.write(buf);
              hash.update(buf);
              offset += buf.length;
              progressed = true;
              this.received += buf.length;
              this.fileBytes.set(file.path, offset);
              this.emit({ phase: 'downloading', file: file.path });
            });
          } catch (error) {
            throw writeError(error, partial, signal);
          } finally {
            await out.close();
            if (discard) await rm(partial, { force: true });
          }
          if (offset < file.size) throw new TsuzukiError('network', `The connection closed before the end of "${file.path}" (${offset} of ${file.size} bytes).`);
        }
        this.emit({ phase: 'verifying', file: file.path }, true);
        const hex = hash.digest('hex');
        if (hex !== file.digest.value) {
          await rm(partial, { force: true });
          await rm(partial + '.json', { force: true });
          this.fileBytes.set(file.path, 0);
          throw Object.assign(
            new TsuzukiError('corrupt_file', `"${file.path}" from ${snapshot.repo} does not match the hub's checksum (${file.digest.algorithm} ${file.digest.value}, got ${hex}); the bad copy was deleted.`),
            { checksum: true },
          );
        }
        await rename(partial, target);
        await rm(partial + '.json', { force: true });
        this.verified.add(`${target}\0${file.digest.value}`);
        return;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if ((error as { checksum?: boolean }).checksum) {
          if (++badChecksums > this.client.checksumRetries) throw error;
        } else {
          if (!isRetryable(error)) throw error;
          failures = progressed ? 1 : failures + 1;
          if (failures > this.client.retries) throw error;
        }
        await sleep(backoff(this.client.retryDelayMs, Math.max(failures, 1)), undefined, { signal }).catch(() => {
          throw signal.reason;
        });
      }
    }
  }

  private emit(patch: Partial<DownloadProgress>, force = false): void {
    Object.assign(this.progress, patch);
    const now = Date.now();
    const wait = this.lastEmit + (this.options.progressIntervalMs ?? 100) - now;
    if (!force && wait > 0) {
      // Throttled, but the latest state still goes out (a stalled transfer must not hide its last bytes).
      this.trailing ??= setTimeout(() => {
        this.trailing = null;
        if (this.state === 'running') this.emit({}, true);
      }, wait).unref();
      return;
    }
    if (this.trailing) clearTimeout(this.trailing);
    this.trailing = null;
    this.lastEmit = now;
    this.samples.push({ t: now, received: this.received });
    while (this.samples.length > 2 && now - this.samples[0]!.t > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (now - first.t) / 1000;
    let bytes = 0;
    for (const n of this.fileBytes.values()) bytes += n;
    this.progress.bytes = bytes;
    this.progress.fileBytes = this.progress.file ? (this.fileBytes.get(this.progress.file) ?? 0) : 0;
    this.progress.fileTotal = this.progress.file ? (this.sizes.get(this.progress.file) ?? 0) : 0;
    this.progress.speed = seconds > 0 ? (this.received - first.received) / seconds : 0;
    this.progress.etaSeconds = this.progress.speed > 0 ? Math.max(0, this.progress.total - bytes) / this.progress.speed : null;
    this.options.onProgress?.({ ...this.progress });
  }
}

/**
 * Hands every chunk of `body` to `write`, one at a time, and settles when all are written. Unlike `for await`,
 * bytes that arrived before the connection broke are still written (a destroyed stream drops its buffer), so a
 * resume never asks for them again.
 */
function drain(body: Readable, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let chain = Promise.resolve();
    let queued = 0;
    let settled = false;
    const settle = (error: unknown) => {
      if (settled) return;
      settled = true;
      chain.then(() => (error ? reject(error) : resolve()), reject);
    };
    body.on('data', (chunk: Buffer) => {
      queued += chunk.length;
      if (queued > 16 << 20) body.pause();
      chain = chain.then(async () => {
        await write(chunk);
        queued -= chunk.length;
        if (body.isPaused() && queued < 4 << 20) body.resume();
      });
      chain.catch((error: unknown) => {
        body.destroy();
        settle(error);
      });
    });
    if (body.readableEnded) return settle(null);
    if (body.destroyed) return settle(body.errored ?? new TsuzukiError('network', 'The connection closed before the end of the file.'));
    body.on('end', () => settle(null));
    body.on('error', (error) => settle(error));
    body.on('close', () => settle(new TsuzukiError('network', 'The connection closed before the end of the file.')));
  });
}

const LOCK_FILE = '.tsuzuki-download.lock';

/** Creates the lock file with our pid; a lock whose process is gone (killed) is taken over. */
async function takeLock(lock: string, dest: string): Promise<void> {
  for (let tries = 0; tries < 3; tries++) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number(await readFile(lock, 'utf8').catch(() => ''));
    if (pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new TsuzukiError('busy', `Another download (process ${pid}) is writing into ${dest}. Wait for it to finish, or stop it.`);
    }
    if (pid === process.pid) throw new TsuzukiError('busy', `A download into ${dest} is already running in this process.`);
    await rm(lock, { force: true });
  }
  throw new TsuzukiError('busy', `Could not take the download lock ${lock}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isTruthy(value: string | undefined): boolean {
  return !!value && !['0', 'false', 'no', 'off', ''].includes(value.toLowerCase());
}

function partialPath(dest: string, path: string): string {
  return join(dest, `${path}.partial`);
}

function partialTag(snapshot: RepoSnapshot, file: HubFile) {
  return { repo: snapshot.repo, path: file.path, size: file.size, algorithm: file.digest.algorithm, digest: file.digest.value };
}

/**
 * Bytes of `<file>.partial` that can be kept. A tag naming other content (another revision or repo) or a partial
 * longer than the file means it goes; an untagged partial is kept, since the checksum at the end still judges it.
 */
async function usablePartial(dest: string, snapshot: RepoSnapshot, file: HubFile): Promise<number> {
  const partial = partialPath(dest, file.path);
  const size = (await stat(partial).catch(() => null))?.size ?? 0;
  const tag = await readFile(partial + '.json', 'utf8').catch(() => null);
  if (size > 0 && size <= file.size && (tag === null || tag === JSON.stringify(partialTag(snapshot, file)))) return size;
  await rm(partial, { force: true });
  await rm(partial + '.json', { force: true });
  return 0;
}

/** A hard link when the cache is on the same disk (no extra space), else a copy; both land atomically. */
async function placeFromCache(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.partial`;
  await rm(temp, { force: true });
  try {
    await link(source, temp);
  } catch {
    await copyFile(source, temp, constants.COPYFILE_FICLONE);
  }
  await rename(temp, target);
}

async function writeManifest(
  dest: string,
  source: { repo: string; revision: string; commit: string; endpoint: string | null },
  files: DownloadedFile[],
): Promise<void> {
  const manifest: SourceManifest = {
    ...source,
    files: files.map((f) => ({ path: f.path, size: f.size, algorithm: f.digest.algorithm, digest: f.digest.value })),
    completedAt: new Date().toISOString(),
  };
  const temp = join(dest, `${SOURCE_MANIFEST}.partial`);
  await writeFile(temp, JSON.stringify(manifest, null, 2) + '\n');
  await rename(temp, join(dest, SOURCE_MANIFEST));
}

function writeError(error: unknown, path: string, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new TsuzukiError('disk_full', `The disk is full while writing ${path}. Free some space and run the download again; it resumes.`);
  if (error instanceof TsuzukiError) return error;
  if (code && /^(EACCES|EPERM|EROFS|EISDIR)$/.test(code)) return new TsuzukiError('internal', `Cannot write ${path} (${code}). Choose a folder you can write to.`);
  return new TsuzukiError('network', `The download of ${path} broke off (${(error as Error).message}); retrying.`, { cause: error });
}
