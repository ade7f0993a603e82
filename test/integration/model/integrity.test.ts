import { mkdtemp, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DecoderSession } from '../../../src-main/engine/session';
import { convertCheckpoint } from '../../../src-main/model/convert/convert';
import { checkModelFiles } from '../../../src-main/model/library/integrity';
import { ModelLibrary } from '../../../src-main/model/library/library';
import { readManifest, VERIFIED_FILE } from '../../../src-main/model/format/manifest';
import { craftedLinkFolder } from '../../helpers/crafted-model';

const FIXTURE = new URL('../../fixtures/model/tiny-safetensors-fp32', import.meta.url).pathname;
const ALL = ['model.onnx', 'runtime.onnx', 'device.onnx', 'model.onnx.data', 'spiece.model'];
let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsuzuki-integrity-'));
  dir = join(root, 'model');
  await convertCheckpoint(FIXTURE, dir, { precision: 'fp32' });
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** `keepMtime`: a whole second, which utimes sets back exactly (damage from outside the file system, as bit rot is). */
async function flipByte(file: string, at: number, options: { keepMtime?: number } = {}) {
  const bytes = await readFile(file);
  bytes[at] = bytes[at]! ^ 0x40;
  await writeFile(file, bytes);
  if (options.keepMtime) await utimes(file, options.keepMtime, options.keepMtime);
}

async function loadAndRelease(path = dir) {
  const session = await DecoderSession.load(path, { threads: 1 });
  await session.release();
}

describe('model files at load', () => {
  it('a flipped byte in model.onnx.data: the load refuses with corrupt_file and says to download or convert again', async () => {
    await loadAndRelease();
    await flipByte(join(dir, 'model.onnx.data'), 100);
    await expect(DecoderSession.load(dir, { threads: 1 })).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/model\.onnx\.data: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)\. Download or convert it again/),
    });
  });

  it('a truncated model.onnx.data is refused by its size before any file is hashed', async () => {
    // runtime.onnx comes first in the manifest: were files hashed one by one, its damage would be found first.
    await flipByte(join(dir, 'runtime.onnx'), 50);
    const { size } = await stat(join(dir, 'model.onnx.data'));
    await truncate(join(dir, 'model.onnx.data'), size - 1000);
    expect(await checkModelFiles(dir, await readManifest(dir))).toEqual({ problem: `model.onnx.data: size ${size - 1000}, expected ${size}`, hashed: [] });
    await expect(DecoderSession.load(dir, { threads: 1 })).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining(`model.onnx.data: size ${size - 1000}`) });
  });

  it('an unchanged model is hashed once: later checks and loads use verified.json until a file changes', async () => {
    const manifest = await readManifest(dir);
    expect(await checkModelFiles(dir, manifest)).toEqual({ problem: null, hashed: ALL });
    const recorded = await readFile(join(dir, VERIFIED_FILE), 'utf8');
    expect(Object.keys(JSON.parse(recorded))).toEqual(ALL);
    expect(await checkModelFiles(dir, manifest)).toEqual({ problem: null, hashed: [] });
    await loadAndRelease();
    expect(await readFile(join(dir, VERIFIED_FILE), 'utf8')).toBe(recorded);

    const later = new Date(Date.now() + 60_000);
    await utimes(join(dir, 'model.onnx.data'), later, later);
    expect(await checkModelFiles(dir, manifest)).toEqual({ problem: null, hashed: ['model.onnx.data'] });
    // A damaged verified.json only costs hashing again.
    await writeFile(join(dir, VERIFIED_FILE), '{"model.onnx": ');
    expect(await checkModelFiles(dir, manifest)).toEqual({ problem: null, hashed: ALL });
  });

  it('a file that is a link out of the model folder is refused at load', async () => {
    const linked = await craftedLinkFolder(root);
    await expect(DecoderSession.load(linked, { threads: 1 })).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(/model\.onnx\.data: a link to .*elsewhere.*, outside the folder/) });
  });

  it('damage that kept the mtime passes the cache, until models verify finds it: then the load hashes and refuses', async () => {
    const library = new ModelLibrary(join(root, 'models'));
    const variant = library.variantDir('tiny', 'fp32');
    await convertCheckpoint(FIXTURE, variant, { precision: 'fp32' });
    const mtime = Math.floor(Date.now() / 1000) - 3600;
    await utimes(join(variant, 'model.onnx.data'), mtime, mtime);
    await loadAndRelease(variant);
    await flipByte(join(variant, 'model.onnx.data'), 100, { keepMtime: mtime });
    await loadAndRelease(variant);
    const report = await library.verify('tiny');
    expect(report.files.filter((f) => !f.ok).map((f) => f.path)).toEqual(['model.onnx.data']);
    await expect(DecoderSession.load(variant, { threads: 1 })).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('model.onnx.data: sha256') });
  });
});
