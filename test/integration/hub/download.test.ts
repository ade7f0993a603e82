import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadModel, SOURCE_MANIFEST, type DownloadOptions, type DownloadProgress } from '../../../src-main/model/hub/download';
import { TsuzukiError } from '../../../src-main/contract/errors';
import { FakeHub, gitBlobSha1, randomBytesSeeded, sha256, type FakeRepo } from '../../helpers/fake-hub';
import { TestProxy } from '../../helpers/http-proxy';

const COMMIT = 'a'.repeat(40);
const WEIGHTS = randomBytesSeeded(300_000, 7);

function rinnaLike(): FakeRepo {
  return {
    id: 'rinna/japanese-gpt-1b',
    commit: COMMIT,
    refs: { v1: 'b'.repeat(40) },
    files: {
      '.gitattributes': '*.bin filter=lfs\n',
      'README.md': '# rinna\n',
      'config.json': JSON.stringify({ model_type: 'gpt2', n_layer: 2 }),
      'spiece.model': randomBytesSeeded(20_000, 3),
      'tokenizer_config.json': JSON.stringify({ do_lower_case: false }),
      'special_tokens_map.json': JSON.stringify({ unk_token: '<unk>' }),
      'model.safetensors': WEIGHTS,
      'pytorch_model.bin': randomBytesSeeded(310_000, 8),
    },
  };
}

const NEEDED = ['config.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors'];

let hub: FakeHub;
let repo: FakeRepo;
let dir: string;

beforeEach(async () => {
  repo = rinnaLike();
  hub = await FakeHub.start([repo]);
  dir = await mkdtemp(join(tmpdir(), 'tsuzuki-hub-'));
});

afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return {
    repo: repo.id,
    dest: join(dir, 'model'),
    hfCacheDirs: [],
    progressIntervalMs: 0,
    ...extra,
    clientOptions: { endpoint: hub.endpoint, env: {}, retryDelayMs: 5, stallTimeoutMs: 5_000, ...extra.clientOptions },
  };
}

async function expectNothingComplete(dest: string) {
  const names = await readdir(dest).catch(() => [] as string[]);
  expect(names).not.toContain(SOURCE_MANIFEST);
  expect(names).not.toContain('model.safetensors');
  expect(names.filter((n) => n.includes('.partial'))).toEqual([]);
}

async function expectComplete(dest: string) {
  for (const name of NEEDED) expect(sha256(await readFile(join(dest, name)))).toBe(sha256(repo.files[name]!));
  const names = await readdir(dest);
  expect(names.filter((n) => n.includes('.partial'))).toEqual([]);
  expect(names).not.toContain('pytorch_model.bin');
  const manifest = JSON.parse(await readFile(join(dest, SOURCE_MANIFEST), 'utf8'));
  expect(manifest.commit).toBe(COMMIT);
  expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(NEEDED);
}

describe('download from a hub', () => {
  it('fetches only what the model needs, verifies it, and reports progress', async () => {
    const events: DownloadProgress[] = [];
    const result = await downloadModel(options({ onProgress: (p) => events.push(p) })).done;
    expect(result.commit).toBe(COMMIT);
    expect(result.files.map((f) => [f.path, f.from])).toEqual(NEEDED.map((n) => [n, 'hub']));
    const weights = result.files.find((f) => f.path === 'model.safetensors')!;
    expect(weights.digest).toEqual({ algorithm: 'sha256', value: sha256(WEIGHTS) });
    expect(result.files.find((f) => f.path === 'config.json')!.digest).toEqual({ algorithm: 'git-sha1', value: gitBlobSha1(repo.files['config.json']!) });
    await expectComplete(result.dir);
    expect(hub.served.get('pytorch_model.bin')).toBeUndefined();
    expect(hub.served.get('model.safetensors')).toBe(WEIGHTS.length);
    // LFS files come from the "CDN" host through the hub's redirect, with the revision pinned to the commit.
    expect(hub.requests.some((r) => r.server === 'cdn')).toBe(true);
    expect(hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.includes(`/resolve/${COMMIT}/`))).toBe(true);
    const bytes = events.map((e) => e.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    const last = events.at(-1)!;
    expect(last).toMatchObject({ phase: 'done', bytes: last.total, filesDone: 5, filesTotal: 5 });
    expect(last.total).toBe(NEEDED.reduce((n, f) => n + Buffer.from(repo.files[f]!).length, 0));
  });

  it('resumes a dropped connection with Range, without fetching finished bytes again', async () => {
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 100_000 }, { kind: 'drop', afterBytes: 50_000 });
    await downloadModel(options()).done;
    await expectComplete(join(dir, 'model'));
    expect(hub.served.get('model.safetensors')).toBe(WEIGHTS.length);
    const ranges = hub.requests.filter((r) => r.server === 'cdn' && r.url.includes(sha256(WEIGHTS))).map((r) => r.range);
    expect(ranges).toEqual([null, 'bytes=100000-', 'bytes=150000-']);
  });

  it('treats a stalled transfer as dropped and resumes it', async () => {
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 70_000 });
    await downloadModel(options({ clientOptions: { stallTimeoutMs: 1000 } })).done;
    await expectComplete(join(dir, 'model'));
    expect(hub.served.get('model.safetensors')).toBe(WEIGHTS.length);
  });

  it('retries server errors (and a CDN refusing an expired link) with back-off', async () => {
    hub.fault('model.safetensors', { kind: 'status', status: 500 }, { kind: 'status', status: 403 }, { kind: 'status', status: 503 });
    hub.fault('config.json', { kind: 'status', status: 502 });
    await downloadModel(options()).done;
    await expectComplete(join(dir, 'model'));
  });

  it('gives up after the retry budget with a network error and keeps the partial file for later', async () => {
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 10_000 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const failed = downloadModel(options({ clientOptions: { retries: 1 } })).done;
    await expect(failed).rejects.toMatchObject({ code: 'network' });
    const dest = join(dir, 'model');
    expect((await stat(join(dest, 'model.safetensors.partial'))).size).toBe(10_000);
    expect(await readdir(dest)).not.toContain(SOURCE_MANIFEST);
  });

  it('detects wrong bytes: the bad copy is never put in place, and a retry fixes it', async () => {
    hub.fault('model.safetensors', { kind: 'corrupt' });
    const failed = downloadModel(options({ clientOptions: { checksumRetries: 0 } })).done;
    await expect(failed).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('model.safetensors') });
    await expectNothingComplete(join(dir, 'model'));

    hub.fault('model.safetensors', { kind: 'corrupt' });
    await downloadModel(options()).done;
    await expectComplete(join(dir, 'model'));
  });

  it('resumes the partial file a killed process left behind', async () => {
    const dest = join(dir, 'model');
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 123_456 });
    await expect(downloadModel(options({ clientOptions: { retries: 0 } })).done).rejects.toThrow(TsuzukiError);
    expect((await stat(join(dest, 'model.safetensors.partial'))).size).toBe(123_456);

    const before = hub.served.get('model.safetensors');
    await downloadModel(options()).done;
    await expectComplete(dest);
    expect(hub.served.get('model.safetensors')! - before!).toBe(WEIGHTS.length - 123_456);
  });

  it('starts over when the server ignores Range', async () => {
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 100_000 }, { kind: 'ignore-range' });
    await downloadModel(options()).done;
    await expectComplete(join(dir, 'model'));
    expect(hub.served.get('model.safetensors')).toBe(100_000 + WEIGHTS.length);
  });

  it('moves a finished partial file into place without asking for it again, and drops an oversized one', async () => {
    const dest = join(dir, 'model');
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 1000 });
    await expect(downloadModel(options({ clientOptions: { retries: 0 } })).done).rejects.toThrow(TsuzukiError);
    // As if the process was killed between the last write and the rename.
    await writeFile(join(dest, 'model.safetensors.partial'), WEIGHTS);
    const before = hub.served.get('model.safetensors')!;
    await downloadModel(options()).done;
    expect(hub.served.get('model.safetensors')).toBe(before);
    await expectComplete(dest);

    await rm(dest, { recursive: true });
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 1000 });
    await expect(downloadModel(options({ clientOptions: { retries: 0 } })).done).rejects.toThrow(TsuzukiError);
    await writeFile(join(dest, 'model.safetensors.partial'), Buffer.concat([WEIGHTS, Buffer.from('extra')]));
    await downloadModel(options()).done;
    await expectComplete(dest);
  });

  it('resumes a bare <file>.partial (no tag) with Range, and still judges it by the checksum', async () => {
    const dest = join(dir, 'model');
    await mkdir(dest, { recursive: true });
    await writeFile(join(dest, 'model.safetensors.partial'), WEIGHTS.subarray(0, 123_456));
    await downloadModel(options()).done;
    await expectComplete(dest);
    expect(hub.served.get('model.safetensors')).toBe(WEIGHTS.length - 123_456);

    await rm(dest, { recursive: true });
    await mkdir(dest, { recursive: true });
    await writeFile(join(dest, 'model.safetensors.partial'), randomBytesSeeded(123_456, 42));
    const before = hub.served.get('model.safetensors')!;
    await downloadModel(options()).done;
    await expectComplete(dest);
    expect(hub.served.get('model.safetensors')! - before).toBe(WEIGHTS.length - 123_456 + WEIGHTS.length);
  });

  it('discards a partial file of other content (a new upload) and one that is corrupt', async () => {
    const dest = join(dir, 'model');
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 100_000 });
    await expect(downloadModel(options({ clientOptions: { retries: 0 } })).done).rejects.toThrow(TsuzukiError);
    // The weights change on the hub: the old partial must not be glued to the new bytes.
    hub.setFile(repo, 'model.safetensors', randomBytesSeeded(300_000, 99));
    const before = hub.served.get('model.safetensors')!;
    await downloadModel(options()).done;
    expect(hub.served.get('model.safetensors')! - before).toBe(300_000);
    expect(sha256(await readFile(join(dest, 'model.safetensors')))).toBe(sha256(repo.files['model.safetensors']!));

    // A partial whose bytes were damaged on disk: caught by the checksum, thrown away, fetched whole.
    await rm(dest, { recursive: true });
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 100_000 });
    await expect(downloadModel(options({ clientOptions: { retries: 0 } })).done).rejects.toThrow(TsuzukiError);
    const partial = join(dest, 'model.safetensors.partial');
    const damaged = await readFile(partial);
    damaged[10] = damaged[10]! ^ 1;
    await writeFile(partial, damaged);
    await downloadModel(options()).done;
    expect(sha256(await readFile(join(dest, 'model.safetensors')))).toBe(sha256(repo.files['model.safetensors']!));
  });

  it('reports missing disk space before downloading anything', async () => {
    const probed: string[] = [];
    const failed = downloadModel(options({ freeSpace: async (d) => (probed.push(d), 100_000) })).done;
    await expect(failed).rejects.toMatchObject({ code: 'disk_full', message: expect.stringMatching(/needs .* only 100\.0 KB/) });
    expect(probed).toEqual([join(dir, 'model')]);
    expect(hub.servedTotal()).toBe(0);
    await expectNothingComplete(join(dir, 'model'));
  });

  it('counts a resumable partial file as space already used', async () => {
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 250_000 });
    await expect(downloadModel(options({ clientOptions: { retries: 0 } })).done).rejects.toThrow(TsuzukiError);
    const rest = WEIGHTS.length - 250_000;
    await expect(downloadModel(options({ freeSpace: async () => rest - 1 })).done).rejects.toMatchObject({ code: 'disk_full' });
    await downloadModel(options({ freeSpace: async () => rest })).done;
  });

  it('cancel stops the transfer and leaves nothing that looks complete', async () => {
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 1000 });
    const handle = downloadModel(
      options({
        clientOptions: { stallTimeoutMs: 60_000 },
        onProgress: (p) => {
          if (p.phase === 'downloading' && p.file === 'model.safetensors' && p.fileBytes > 0) handle.cancel();
        },
      }),
    );
    await expect(handle.done).rejects.toMatchObject({ code: 'cancelled' });
    expect(handle.state).toBe('cancelled');
    const names = await readdir(join(dir, 'model'));
    expect(names.filter((n) => n.includes('.partial') || n === SOURCE_MANIFEST || NEEDED.includes(n))).toEqual([]);
  });

  it('an abort signal cancels too', async () => {
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 1000 });
    const controller = new AbortController();
    const handle = downloadModel(
      options({
        signal: controller.signal,
        clientOptions: { stallTimeoutMs: 60_000 },
        onProgress: (p) => p.file === 'model.safetensors' && p.phase === 'downloading' && controller.abort(),
      }),
    );
    await expect(handle.done).rejects.toMatchObject({ code: 'cancelled' });
    await expectNothingComplete(join(dir, 'model'));
  });

  it('pause keeps the partial file and resume continues from it', async () => {
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 40_000 });
    let paused!: () => void;
    const pausedNow = new Promise<void>((resolve) => (paused = resolve));
    let once = true;
    const handle = downloadModel(
      options({
        clientOptions: { stallTimeoutMs: 60_000 },
        onProgress: (p) => {
          if (p.phase === 'downloading' && p.file === 'model.safetensors' && p.fileBytes > 0 && once) {
            once = false;
            handle.pause();
          }
          if (p.phase === 'paused') paused();
        },
      }),
    );
    await pausedNow;
    expect(handle.state).toBe('paused');
    const partial = join(dir, 'model', 'model.safetensors.partial');
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    handle.resume();
    await handle.done;
    await expectComplete(join(dir, 'model'));
    expect(hub.served.get('model.safetensors')).toBe(WEIGHTS.length);
    expect(hub.requests.filter((r) => r.server === 'cdn').at(-1)!.range).toBe(`bytes=${kept}-`);
  });

  it('a new revision into the same folder: the old manifest stops vouching as soon as files change', async () => {
    const dest = join(dir, 'model');
    await downloadModel(options()).done;
    repo.refs = { v2: 'e'.repeat(40) };
    hub.setFile(repo, 'model.safetensors', Buffer.from(WEIGHTS.subarray(0, 200_000)));
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 1000 });
    await expect(downloadModel(options({ revision: 'v2', clientOptions: { retries: 0 } })).done).rejects.toMatchObject({ code: 'network' });
    expect(await readdir(dest)).not.toContain(SOURCE_MANIFEST);
    const result = await downloadModel(options({ revision: 'v2' })).done;
    expect(result.commit).toBe('e'.repeat(40));
    expect(JSON.parse(await readFile(join(dest, SOURCE_MANIFEST), 'utf8')).commit).toBe('e'.repeat(40));
  });

  it('one download per folder: a second one is refused, a stale lock from a dead process is taken over', async () => {
    const dest = join(dir, 'model');
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 1000 });
    let started!: () => void;
    const downloading = new Promise<void>((resolve) => (started = resolve));
    const first = downloadModel(options({ clientOptions: { stallTimeoutMs: 60_000 }, onProgress: (p) => p.fileBytes > 0 && p.file === 'model.safetensors' && started() }));
    await downloading;
    await expect(downloadModel(options()).done).rejects.toMatchObject({ code: 'busy' });
    first.cancel();
    await expect(first.done).rejects.toMatchObject({ code: 'cancelled' });
    expect(await readdir(dest)).not.toContain('.tsuzuki-download.lock');

    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(dest, '.tsuzuki-download.lock'), dead.stdout);
    await downloadModel(options()).done;
    await expectComplete(dest);
  });

  it('running again after success downloads nothing', async () => {
    await downloadModel(options()).done;
    const served = hub.servedTotal();
    const again = await downloadModel(options()).done;
    expect(again.files.every((f) => f.from === 'existing')).toBe(true);
    expect(hub.servedTotal()).toBe(served);
  });

  it('works with a mirror that only has the paged tree API', async () => {
    hub.treeOnly = true;
    const result = await downloadModel(options()).done;
    expect(result.commit).toBe(COMMIT);
    await expectComplete(result.dir);
    expect(hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeGreaterThan(2);
  });

  it('works with a mirror that leaves sizes and checksums out of the listing', async () => {
    hub.omitBlobDetails = true;
    hub.fault('model.safetensors', { kind: 'corrupt' });
    const result = await downloadModel(options()).done;
    await expectComplete(result.dir);
    expect(hub.requests.some((r) => r.method === 'HEAD')).toBe(true);
    expect(result.files.find((f) => f.path === 'model.safetensors')!.digest).toEqual({ algorithm: 'sha256', value: sha256(WEIGHTS) });
  });

  it('accepts small files whose ETag is no checksum (pinning their sha256), never weights', async () => {
    hub.omitBlobDetails = true;
    hub.weakEtags = true;
    const result = await downloadModel(options()).done;
    await expectComplete(result.dir);
    expect(result.files.find((f) => f.path === 'config.json')!.digest).toEqual({ algorithm: 'sha256', value: sha256(repo.files['config.json']!) });
    expect(result.files.find((f) => f.path === 'model.safetensors')!.digest.algorithm).toBe('sha256');
  });
});

describe('hub errors', () => {
  it('a gated repo asks for HF_TOKEN; with the token it downloads and the CDN never sees it', async () => {
    repo.token = 'hf_secret';
    await expect(downloadModel(options()).done).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringContaining('HF_TOKEN') });
    const result = await downloadModel(options({ clientOptions: { env: { HF_TOKEN: 'hf_secret' } } })).done;
    await expectComplete(result.dir);
    // The fake CDN answers 400 to any Authorization header, so success proves the token stayed on the hub.
    expect(hub.requests.filter((r) => r.server === 'cdn').every((r) => r.authorization === null)).toBe(true);
    expect(hub.requests.filter((r) => r.server === 'hub').at(-1)!.authorization).toBe('Bearer hf_secret');
  });

  it('never sends the token saved by huggingface-cli login to a mirror', async () => {
    repo.token = 'hf_saved';
    await mkdir(join(dir, 'hf'), { recursive: true });
    await writeFile(join(dir, 'hf', 'token'), 'hf_saved\n');
    await expect(downloadModel(options({ clientOptions: { env: { HF_HOME: join(dir, 'hf') } } })).done).rejects.toMatchObject({ code: 'unauthorized' });
    expect(hub.requests.every((r) => r.authorization === null)).toBe(true);
  });

  it('a missing repo or revision is reported as not found', async () => {
    await expect(downloadModel(options({ repo: 'rinna/nope' })).done).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('rinna/nope') });
    await expect(downloadModel(options({ revision: 'v9' })).done).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('"v9"') });
    await expect(downloadModel(options({ repo: '../etc' })).done).rejects.toMatchObject({ code: 'invalid_argument' });
    const tagged = await downloadModel(options({ revision: 'v1' })).done;
    expect(tagged.commit).toBe('b'.repeat(40));
  });

  it('honours HTTP(S)_PROXY', async () => {
    const proxy = await TestProxy.start();
    try {
      await downloadModel(options({ clientOptions: { env: { HTTP_PROXY: proxy.url } } })).done;
      await expectComplete(join(dir, 'model'));
      const hosts = new Set(proxy.targets.map((t) => t.replace(/^(CONNECT|GET|HEAD) (https?:\/\/)?([^/]+).*$/, '$3')));
      expect(hosts).toEqual(new Set([new URL(hub.endpoint).host, new URL(hub.cdnOrigin).host]));
    } finally {
      await proxy.close();
    }
  });
});

describe('HTTPS', () => {
  const fixtures = new URL('../../fixtures/hub/', import.meta.url).pathname;

  it('goes through an HTTPS_PROXY tunnel, and checks the certificate', async () => {
    const tls = { key: await readFile(join(fixtures, 'key.pem'), 'utf8'), cert: await readFile(join(fixtures, 'cert.pem'), 'utf8') };
    const secure = await FakeHub.start([repo], { tls });
    const proxy = await TestProxy.start();
    try {
      const base = { ...options(), clientOptions: { endpoint: secure.endpoint, retries: 0, retryDelayMs: 5 } };
      // Not trusted: refused, nothing written.
      await expect(downloadModel({ ...base, clientOptions: { ...base.clientOptions, env: { HTTPS_PROXY: proxy.url } } }).done).rejects.toMatchObject({ code: 'network' });
      await expectNothingComplete(join(dir, 'model'));

      const result = await downloadModel({ ...base, clientOptions: { ...base.clientOptions, env: { HTTPS_PROXY: proxy.url }, ca: tls.cert } }).done;
      await expectComplete(result.dir);
      const hub = new URL(secure.endpoint).host;
      const cdn = new URL(secure.cdnOrigin).host;
      expect(new Set(proxy.targets)).toEqual(new Set([`CONNECT ${hub}`, `CONNECT ${cdn}`]));
    } finally {
      await proxy.close();
      await secure.close();
    }
  });
});

describe('Hugging Face cache reuse', () => {
  /** The layout huggingface_hub writes: blobs named by checksum, snapshot entries symlinked to them. */
  async function makeCache(names: string[], corrupt?: string) {
    const cache = join(dir, 'hf', 'hub');
    const folder = join(cache, 'models--rinna--japanese-gpt-1b');
    await mkdir(join(folder, 'blobs'), { recursive: true });
    await mkdir(join(folder, 'snapshots', COMMIT), { recursive: true });
    await mkdir(join(folder, 'refs'), { recursive: true });
    await writeFile(join(folder, 'refs', 'main'), COMMIT);
    for (const name of names) {
      const f = hub.info(repo, name);
      const blob = f.lfs ? f.sha256 : f.gitSha1;
      const data = Buffer.from(f.data);
      if (name === corrupt) data[0] = data[0]! ^ 1;
      await writeFile(join(folder, 'blobs', blob), data);
      await symlink(join('..', '..', 'blobs', blob), join(folder, 'snapshots', COMMIT, name));
    }
    return cache;
  }

  it('finds and reuses a verified cache instead of downloading', async () => {
    const cache = await makeCache([...NEEDED, 'README.md']);
    const result = await downloadModel(options({ hfCacheDirs: [cache] })).done;
    expect(result.files.every((f) => f.from === 'hf-cache')).toBe(true);
    await expectComplete(result.dir);
    expect(hub.servedTotal()).toBe(0);
  });

  it('finds the cache through HF_HOME', async () => {
    const cache = await makeCache(NEEDED);
    const result = await downloadModel({ ...options(), hfCacheDirs: undefined, clientOptions: { endpoint: hub.endpoint, env: { HF_HOME: join(dir, 'hf') } } }).done;
    expect(result.files.every((f) => f.from === 'hf-cache')).toBe(true);
    expect(cache).toBe(join(dir, 'hf', 'hub'));
  });

  it('does not trust a damaged cached file', async () => {
    const cache = await makeCache(NEEDED, 'model.safetensors');
    const result = await downloadModel(options({ hfCacheDirs: [cache] })).done;
    expect(result.files.find((f) => f.path === 'model.safetensors')!.from).toBe('hub');
    expect(result.files.find((f) => f.path === 'spiece.model')!.from).toBe('hf-cache');
    await expectComplete(result.dir);
  });

  it('HF_HUB_OFFLINE uses the cache without asking the hub, and says so when the cache lacks the model', async () => {
    const cache = await makeCache(NEEDED);
    const result = await downloadModel(options({ hfCacheDirs: [cache], clientOptions: { env: { HF_HUB_OFFLINE: '1' } } })).done;
    expect(result.files.map((f) => f.from)).toEqual(NEEDED.map(() => 'hf-cache'));
    expect(hub.requests).toEqual([]);
    await expect(downloadModel(options({ repo: 'rinna/other', clientOptions: { env: { HF_HUB_OFFLINE: '1' } } })).done).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('HF_HUB_OFFLINE') });
  });

  it('works offline from a complete cached snapshot', async () => {
    const cache = await makeCache(NEEDED);
    const offline = options({ hfCacheDirs: [cache], clientOptions: { retries: 0 } });
    await hub.close();
    const result = await downloadModel(offline).done;
    expect(result.commit).toBe(COMMIT);
    expect(result.files.map((f) => f.from)).toEqual(NEEDED.map(() => 'hf-cache'));
    hub = await FakeHub.start([repo]);
  });
});
