import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkModelFiles } from '../../../src-main/model/library/integrity';
import { ModelLibrary } from '../../../src-main/model/library/library';
import { readManifest } from '../../../src-main/model/format/manifest';
import { ModelsService, type ModelJobStatus, type ModelsServiceOptions } from '../../../src-main/services/models';
import { craftedManifestFolder } from '../../helpers/crafted-model';
import { FakeHub, sha256, type FakeRepo } from '../../helpers/fake-hub';

const FIXTURES = new URL('../../fixtures/model/', import.meta.url).pathname;

function folder(name: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const f of readdirSync(join(FIXTURES, name))) files[f] = readFileSync(join(FIXTURES, name, f));
  return files;
}

let hub: FakeHub;
let tiny: FakeRepo;
let sharded: FakeRepo;
let dir: string;

beforeEach(async () => {
  tiny = { id: 'rinna/tiny-gpt2', commit: '1'.repeat(40), files: { ...folder('tiny-safetensors-fp32'), 'pytorch_model.bin': folder('tiny-pytorch-fp32')['pytorch_model.bin']!, 'README.md': '# tiny' } };
  sharded = { id: 'rinna/tiny-sharded', commit: '2'.repeat(40), files: folder('tiny-sharded') };
  hub = await FakeHub.start([tiny, sharded]);
  dir = await mkdtemp(join(tmpdir(), 'tsuzuki-models-'));
});

afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

function service(events: ModelJobStatus[] = [], extra: Partial<ModelsServiceOptions> = {}) {
  return new ModelsService({
    modelsDir: join(dir, 'models'),
    hub: { endpoint: hub.endpoint, env: {}, retryDelayMs: 5 },
    hfCacheDirs: [],
    emit: (_e, s) => events.push(s),
    ...extra,
  });
}

describe('models service', () => {
  it('adds a model by repo id: download, convert, activate; lists, verifies and removes it', async () => {
    const events: ModelJobStatus[] = [];
    const models = service(events);
    const job = models.add({ repo: tiny.id, precision: 'fp32' });
    const model = await job.done;
    expect(model).toMatchObject({ id: 'rinna--tiny-gpt2', repo: tiny.id, active: 'fp32' });
    expect(model.source!.commit).toBe(tiny.commit);
    expect(model.source!.files).toEqual(['config.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
    expect(model.variants.map((v) => v.precision)).toEqual(['fp32']);
    expect(hub.served.get('pytorch_model.bin')).toBeUndefined();
    // tsuzuki.json records where the weights came from, and their checksums.
    const manifest = JSON.parse(await readFile(join(model.variants[0]!.dir, 'tsuzuki.json'), 'utf8'));
    expect(manifest.source).toMatchObject({ repo: tiny.id, revision: tiny.commit });
    expect(manifest.files.inputs['model.safetensors'].sha256).toBe(sha256(tiny.files['model.safetensors']!));
    // Hashed within the job: the first load finds every file verified and hashes nothing.
    expect(await checkModelFiles(model.variants[0]!.dir, await readManifest(model.variants[0]!.dir))).toEqual({ problem: null, hashed: [] });

    const stages = [...new Set(events.map((e) => e.stage))];
    expect(stages).toEqual(['download', 'convert', 'done']);
    expect(events.every((e) => e.jobId === job.status.jobId)).toBe(true);
    expect(events.some((e) => e.download?.phase === 'downloading')).toBe(true);
    expect(events.some((e) => e.convert !== null)).toBe(true);
    expect(events.at(-1)).toMatchObject({ state: 'done', stage: 'done', error: null });

    const listed = await models.list();
    expect(listed.models.map((m) => m.id)).toEqual(['rinna--tiny-gpt2']);
    expect(listed.active).toMatchObject({ id: 'rinna--tiny-gpt2', precision: 'fp32', dir: join(dir, 'models', 'rinna--tiny-gpt2', 'fp32') });
    // The active choice is persisted in the models folder.
    expect(await new ModelLibrary(join(dir, 'models')).active()).toEqual(listed.active);

    const report = await models.verify(model.id);
    expect(report.ok).toBe(true);
    expect(report.files.map((f) => `${f.part}:${f.path}`)).toEqual(expect.arrayContaining(['source:model.safetensors', 'fp32:model.onnx', 'fp32:model.onnx.data']));

    await models.remove(model.id, 'converted');
    expect((await models.get(model.id)).variants).toEqual([]);
    expect(await models.active()).toBeNull();
    await expect(models.setActive(model.id)).rejects.toMatchObject({ code: 'not_found' });
    await models.remove(model.id, 'all');
    expect((await models.list()).models).toEqual([]);
    await expect(models.verify(model.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('verify finds a damaged file and names it', async () => {
    const models = service();
    const model = await models.add({ repo: tiny.id, precision: 'fp32' }).done;
    const data = join(model.variants[0]!.dir, 'model.onnx.data');
    const bytes = await readFile(data);
    bytes[100] = bytes[100]! ^ 0x40;
    await writeFile(data, bytes);
    await rm(join(model.source!.dir, 'spiece.model'));
    const report = await models.verify(model.id);
    expect(report.ok).toBe(false);
    expect(report.files.filter((f) => !f.ok).map((f) => [f.part, f.path, f.problem?.split(' ')[0]])).toEqual([
      ['source', 'spiece.model', 'missing'],
      ['fp32', 'model.onnx.data', 'sha256'],
    ]);
  });

  it('adds a sharded safetensors checkpoint (index and every shard)', async () => {
    // Hub options can come from settings, asked for at the start of each job.
    const model = await service([], { hub: async () => ({ endpoint: hub.endpoint, env: {} }) }).add({ repo: sharded.id, precision: 'fp32' }).done;
    expect(model.source!.files).toEqual(expect.arrayContaining(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']));
    expect(model.variants).toHaveLength(1);
  });

  it('adding again reuses the verified source and only converts the new precision', async () => {
    const models = service();
    await models.add({ repo: tiny.id, precision: 'fp32' }).done;
    const served = hub.servedTotal();
    const model = await models.add({ repo: tiny.id, precision: 'fp16' }).done;
    expect(hub.servedTotal()).toBe(served);
    expect(model.variants.map((v) => v.precision).sort()).toEqual(['fp16', 'fp32']);
    // The first model stays active until another is chosen.
    expect(model.active).toBe('fp32');
    await expect(models.setActive(model.id)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await models.setActive(model.id, 'fp16')).toMatchObject({ precision: 'fp16' });
  });

  it('a conversion an older version made is not listed, and adding again converts it anew from the kept download', async () => {
    const models = service();
    const added = await models.add({ repo: tiny.id, precision: 'fp32' }).done;
    const manifestFile = join(added.variants[0]!.dir, 'tsuzuki.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    await writeFile(manifestFile, JSON.stringify({ ...manifest, formatVersion: manifest.formatVersion - 1 }));
    expect((await models.list()).models[0]!.variants).toEqual([]);
    const served = hub.servedTotal();
    const again = await models.add({ repo: tiny.id, precision: 'fp32' }).done;
    expect(hub.servedTotal()).toBe(served);
    expect(again.variants.map((v) => v.precision)).toEqual(['fp32']);
    expect((await models.verify(again.id)).ok).toBe(true);
  });

  it('cancel during the download leaves no model and no partial files', async () => {
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 5000 });
    const events: ModelJobStatus[] = [];
    const models = new ModelsService({
      modelsDir: join(dir, 'models'),
      hub: { endpoint: hub.endpoint, env: {}, stallTimeoutMs: 60_000 },
      hfCacheDirs: [],
      emit: (_e, s) => {
        events.push(s);
        if (s.download?.file === 'model.safetensors' && s.download.fileBytes > 0 && s.state === 'running') models.cancel(s.jobId);
      },
    });
    const job = models.add({ repo: tiny.id, precision: 'fp32' });
    await expect(job.done).rejects.toMatchObject({ code: 'cancelled' });
    expect(events.at(-1)).toMatchObject({ state: 'cancelled', error: { code: 'cancelled' } });
    expect((await models.list()).models).toEqual([]);
    const left = await readdir(join(dir, 'models', 'rinna--tiny-gpt2', 'source')).catch(() => []);
    expect(left.filter((n) => n.includes('partial') || n === 'model.safetensors' || n === 'tsuzuki-source.json')).toEqual([]);
  });

  it('an interrupted add is listed as pending; adding again resumes it; two adds at once are refused', async () => {
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 300_000 });
    const flaky = new ModelsService({ modelsDir: join(dir, 'models'), hub: { endpoint: hub.endpoint, env: {}, retries: 0 }, hfCacheDirs: [] });
    await expect(flaky.add({ repo: tiny.id, precision: 'fp32' }).done).rejects.toMatchObject({ code: 'network' });
    const [pending] = (await flaky.list()).models;
    expect(pending).toMatchObject({ id: 'rinna--tiny-gpt2', repo: tiny.id, source: null, variants: [], pending: { bytes: expect.any(Number) } });
    expect(pending!.pending!.bytes).toBeGreaterThanOrEqual(300_000);

    const models = service();
    const job = models.add({ repo: tiny.id, precision: 'fp32' });
    expect(() => models.add({ repo: tiny.id, precision: 'fp16' })).toThrow(expect.objectContaining({ code: 'busy' }));
    const model = await job.done;
    expect(model.pending).toBeNull();
    expect(hub.served.get('model.safetensors')).toBe(tiny.files['model.safetensors']!.length);
  });

  it('removing the source of a pending download clears it', async () => {
    hub.fault('model.safetensors', { kind: 'drop', afterBytes: 1000 });
    const flaky = new ModelsService({ modelsDir: join(dir, 'models'), hub: { endpoint: hub.endpoint, env: {}, retries: 0 }, hfCacheDirs: [] });
    await expect(flaky.add({ repo: tiny.id, precision: 'fp32' }).done).rejects.toThrow();
    await flaky.remove('rinna--tiny-gpt2', 'source');
    expect((await flaky.list()).models).toEqual([]);
    expect(await readdir(join(dir, 'models'))).toEqual([]);
  });

  it('pause and resume a download job', async () => {
    hub.fault('model.safetensors', { kind: 'stall', afterBytes: 5000 });
    let paused!: () => void;
    const pausedNow = new Promise<void>((resolve) => (paused = resolve));
    let once = true;
    const models = new ModelsService({
      modelsDir: join(dir, 'models'),
      hub: { endpoint: hub.endpoint, env: {}, stallTimeoutMs: 60_000 },
      hfCacheDirs: [],
      emit: (_e, s) => {
        if (s.download?.file === 'model.safetensors' && s.download.fileBytes > 0 && once) {
          once = false;
          models.pause(s.jobId);
        }
        if (s.state === 'paused') paused();
      },
    });
    const job = models.add({ repo: tiny.id, precision: 'fp32' });
    await pausedNow;
    expect(models.listJobs()).toEqual([expect.objectContaining({ jobId: job.status.jobId, state: 'paused' })]);
    models.resume(job.status.jobId);
    const model = await job.done;
    expect(model.variants).toHaveLength(1);
    expect(hub.served.get('model.safetensors')).toBe(tiny.files['model.safetensors']!.length);
    expect(models.listJobs()).toEqual([]);
    expect(() => models.cancel(job.status.jobId)).toThrow(expect.objectContaining({ code: 'not_found' }));
  });

  it('imports a local Hugging Face folder (copied, verified, converted), leaving the original alone', async () => {
    const original = join(dir, 'my-checkpoint');
    await cp(join(FIXTURES, 'tiny-pytorch-fp16'), original, { recursive: true });
    const before = await readdir(original);
    const model = await service().import({ path: original, precision: 'fp32' }).done;
    expect(model.id).toBe('my-checkpoint');
    expect(model.source!.files).toContain('pytorch_model.bin');
    expect(model.variants.map((v) => v.precision)).toEqual(['fp32']);
    expect(await readdir(original)).toEqual(before);
    expect((await service().verify(model.id)).ok).toBe(true);
  });

  it('imports an already converted model, and refuses one that does not match its manifest', async () => {
    const first = service();
    const added = await first.add({ repo: tiny.id, precision: 'fp32' }).done;
    const exported = join(dir, 'exported');
    await cp(added.variants[0]!.dir, exported, { recursive: true });

    const other = new ModelsService({ modelsDir: join(dir, 'other'), hfCacheDirs: [] });
    const imported = await other.import({ path: exported }).done;
    // tsuzuki.json names the source repo, so the import lands under the same id.
    expect(imported).toMatchObject({ id: 'rinna--tiny-gpt2', repo: tiny.id, source: null, active: 'fp32' });
    expect((await other.verify(imported.id)).ok).toBe(true);
    expect(await checkModelFiles(imported.variants[0]!.dir, await readManifest(imported.variants[0]!.dir))).toEqual({ problem: null, hashed: [] });

    const damaged = join(dir, 'damaged');
    await cp(exported, damaged, { recursive: true });
    await writeFile(join(damaged, 'model.onnx'), 'not a model');
    const third = new ModelsService({ modelsDir: join(dir, 'third'), hfCacheDirs: [] });
    await expect(third.import({ path: damaged }).done).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('model.onnx') });
    expect((await third.list()).models).toEqual([]);
    expect((await readdir(join(dir, 'third')).catch(() => [])).filter((n) => n !== 'library.json')).toEqual([]);
  });

  it('the import job refuses a folder whose manifest names a file outside it, and writes nothing outside the library', async () => {
    const crafted = await craftedManifestFolder(join(dir, 'attack'));
    const events: ModelJobStatus[] = [];
    const models = service(events);
    await expect(models.import({ path: crafted.folder }).done).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('"../../../victim.txt"') });
    expect(events.at(-1)).toMatchObject({ state: 'failed', error: { code: 'corrupt_file' } });
    expect(await readFile(crafted.victim, 'utf8')).toBe(crafted.precious);
    expect(await readdir(join(dir, 'attack'))).toEqual(['in', 'victim.txt']);
    expect((await models.list()).models).toEqual([]);
  });

  it('reports a failed conversion and keeps the verified download for the next try', async () => {
    const events: ModelJobStatus[] = [];
    const broken: FakeRepo = { ...tiny, id: 'rinna/broken', commit: '3'.repeat(40), files: { ...tiny.files, 'config.json': JSON.stringify({ model_type: 'gpt_neox' }) } };
    await hub.close();
    hub = await FakeHub.start([broken]);
    const models = service(events);
    await expect(models.add({ repo: broken.id, precision: 'fp32' }).done).rejects.toMatchObject({ code: expect.any(String) });
    expect(events.at(-1)).toMatchObject({ state: 'failed', stage: 'convert' });
    const model = await models.get('rinna--broken');
    expect(model.variants).toEqual([]);
    expect(sha256(await readFile(join(model.source!.dir, 'model.safetensors')))).toBe(sha256(broken.files['model.safetensors']!));
  });
});
