import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTensorDtype, toFloat32 } from '../../../src-main/model/format/dtype';
import { readPytorchCheckpoint } from '../../../src-main/model/format/pytorch';
import { TensorFiles } from '../../../src-main/model/format/tensor-file';

const FILES = join(import.meta.dirname, '../../fixtures/model/files');

interface ZipFileEntry {
  name: string;
  data: Uint8Array;
  method?: number;
  /** The uncompressed size the headers declare (by default the data's length). */
  size?: number;
}

/**
 * A zip archive as torch.save lays it out (stored entries), optionally in zip64 form (sizes and offsets
 * in the 0x0001 extra field, zip64 end records) and with an archive comment. CRCs are left 0: the reader
 * locates data and does not verify it.
 */
function zipArchive(entries: ZipFileEntry[], options: { zip64?: boolean; comment?: string } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method ?? 0, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size ?? e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, Buffer.from(e.data));

    const extra = Buffer.alloc(options.zip64 ? 28 : 0);
    if (options.zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(e.size ?? e.data.length), 4);
      extra.writeBigUInt64LE(BigInt(e.data.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(e.method ?? 0, 10);
    header.writeUInt16LE(0x21, 14);
    header.writeUInt32LE(options.zip64 ? 0xffffffff : e.data.length, 20);
    header.writeUInt32LE(options.zip64 ? 0xffffffff : (e.size ?? e.data.length), 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt16LE(extra.length, 30);
    header.writeUInt32LE(options.zip64 ? 0xffffffff : offset, 42);
    central.push(header, name, extra);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (options.zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(cd.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const comment = Buffer.from(options.comment ?? '');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64 ? 0xffff : entries.length, 8);
  end.writeUInt16LE(options.zip64 ? 0xffff : entries.length, 10);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : offset, 16);
  end.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...parts, cd, ...tail, end, comment]);
}

/**
 * The protocol-2 pickle torch writes for `{'w': tensor}` with a 2×3 float32 tensor at storage offset 1 of key '0'
 * (a 7-element storage); `view` replaces the opcodes of the storage offset, size and stride.
 */
function statePickle(storageType = 'FloatStorage', view = 'K\x01K\x02K\x03\x86K\x03K\x01\x86'): Buffer {
  const unicode = (s: string): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(s.length);
    return Buffer.concat([Buffer.from('X'), len, Buffer.from(s)]);
  };
  return Buffer.concat([
    Buffer.from('\x80\x02ccollections\nOrderedDict\n)R(', 'latin1'),
    unicode('w'),
    Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n((', 'latin1'),
    unicode('storage'),
    Buffer.from(`ctorch\n${storageType}\n`, 'latin1'),
    unicode('0'),
    unicode('cpu'),
    Buffer.from(`K\x07tQ${view}\x89ccollections\nOrderedDict\n)RtRu.`, 'latin1'),
  ]);
}
const STORAGE = new Float32Array([9, 1, 2, 3, 4, 5, 6]);

describe('readPytorchCheckpoint', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsuzuki-pytorch-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  async function file(bytes: Buffer): Promise<string> {
    const path = join(dir, `f${n++}.bin`);
    await writeFile(path, bytes);
    return path;
  }
  async function values(path: string, name: string): Promise<Float32Array> {
    const t = (await readPytorchCheckpoint(path)).get(name)!;
    const files = new TensorFiles();
    try {
      if (!isTensorDtype(t.dtype)) throw new Error(`unexpected dtype ${t.dtype}`);
      return toFloat32(await files.read(t), t.dtype);
    } finally {
      await files.close();
    }
  }

  it('reads views: transposes, offsets, strides, scalars, F16 and BF16 (torch.save fixture)', async () => {
    const path = join(FILES, 'views.bin');
    const expected = JSON.parse(readFileSync(join(FILES, 'views.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    const tensors = await readPytorchCheckpoint(path);
    expect([...tensors.keys()]).toEqual(Object.keys(expected));
    expect(tensors.get('transposed')!.strides).toEqual([1, 6]);
    for (const [name, want] of Object.entries(expected)) {
      expect(tensors.get(name)).toMatchObject({ dtype: want.dtype, shape: want.shape });
      expect([...(await values(path, name))], name).toEqual(want.values);
    }
  });

  it('reads a state dict large enough for 4-byte memo indices (torch.save fixture)', async () => {
    const path = join(FILES, 'many.bin');
    const tensors = await readPytorchCheckpoint(path);
    expect(tensors.size).toBe(300);
    for (const k of [1, 255, 256, 299]) {
      expect(tensors.get(`t${k}`)).toMatchObject({ dtype: 'F16', shape: [2] });
      expect([...(await values(path, `t${k}`))]).toEqual([k / 4, -k / 4]);
    }
  });

  it.each([
    ['a plain zip', {}],
    ['a zip64 archive', { zip64: true }],
    ['an archive with a comment', { comment: 'x'.repeat(300) }],
  ])('reads %s with any archive prefix', async (_, options) => {
    const path = await file(
      zipArchive(
        [
          { name: 'my_model/data.pkl', data: statePickle() },
          { name: 'my_model/byteorder', data: Buffer.from('little') },
          { name: 'my_model/data/0', data: new Uint8Array(STORAGE.buffer) },
          { name: 'my_model/version', data: Buffer.from('3\n') },
        ],
        options,
      ),
    );
    expect([...(await values(path, 'w'))]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses compressed storages, big-endian archives and missing pieces', async () => {
    const storage = { name: 'a/data/0', data: new Uint8Array(STORAGE.buffer) };
    const pkl = { name: 'a/data.pkl', data: statePickle() };
    await expect(readPytorchCheckpoint(await file(zipArchive([pkl, { ...storage, method: 8 }])))).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringContaining('storage of w is compressed'),
    });
    await expect(
      readPytorchCheckpoint(await file(zipArchive([pkl, storage, { name: 'a/byteorder', data: Buffer.from('big') }]))),
    ).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('big-endian') });
    await expect(readPytorchCheckpoint(await file(zipArchive([pkl])))).rejects.toThrow(/lacks the storage of tensor w/);
    await expect(readPytorchCheckpoint(await file(zipArchive([storage])))).rejects.toThrow(/has no data\.pkl/);
    const short = { ...storage, data: storage.data.subarray(0, 20) };
    await expect(readPytorchCheckpoint(await file(zipArchive([pkl, short])))).rejects.toThrow(/shorter than its 7 elements/);
  });

  it.each([
    ['a negative storage offset', 'J\xff\xff\xff\xffK\x02K\x03\x86K\x03K\x01\x86', /storage offset -1 is negative/],
    [
      'a million-by-million view of one element (stride 0), which would allocate from its shape',
      'K\x00J\x40\x42\x0f\x00J\x40\x42\x0f\x00\x86K\x00K\x00\x86',
      /tensor w \(shape \[1000000, 1000000\]\) has more elements than its 7-element storage/,
    ],
  ])('refuses a tensor with %s before reading it', async (_, view, message) => {
    const path = await file(
      zipArchive([
        { name: 'a/data.pkl', data: statePickle('FloatStorage', view) },
        { name: 'a/data/0', data: new Uint8Array(STORAGE.buffer) },
      ]),
    );
    await expect(readPytorchCheckpoint(path)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(message) });
  });

  it('refuses zip entries whose sizes or places do not hold up, before reading from them', async () => {
    const pkl = { name: 'a/data.pkl', data: statePickle() };
    const storage = { name: 'a/data/0', data: new Uint8Array(STORAGE.buffer) };
    const refusal = async (bytes: Buffer): Promise<unknown> => readPytorchCheckpoint(await file(bytes)).catch((e: unknown) => e);

    // A stored storage that claims its 7 floats but holds 5: the tensor would be read from the bytes after it.
    const short = { ...storage, data: storage.data.subarray(0, 20), size: 28 };
    expect(await refusal(zipArchive([pkl, short]))).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining('entry a/data/0 claims 28 bytes but stores 20'),
    });

    // Two entries over the same bytes.
    const twice = zipArchive([pkl, storage, { ...storage, name: 'a/data/1' }]);
    const central = twice.lastIndexOf('a/data/1') - 46;
    twice.writeUInt32LE(twice.readUInt32LE(twice.lastIndexOf('a/data/0') - 46 + 42), central + 42);
    expect(await refusal(twice)).toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('entries a/data/0 and a/data/1 overlap') });

    // A deflated pickle that inflates far beyond its declared size (a deflate bomb), one that is not deflate data,
    // and one that declares more than a pickle ever holds.
    const bomb = deflateRawSync(Buffer.concat([pkl.data, Buffer.alloc(16 << 20)]));
    expect(await refusal(zipArchive([{ ...pkl, data: bomb, method: 8, size: pkl.data.length }, storage]))).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining(`entry a/data.pkl does not inflate to its declared ${pkl.data.length} bytes`),
    });
    expect(await refusal(zipArchive([{ ...pkl, data: Buffer.from('not deflate'), method: 8, size: 100 }, storage]))).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining('entry a/data.pkl does not inflate'),
    });
    expect(await refusal(zipArchive([{ ...pkl, data: bomb, method: 8, size: 0x7fffffff }, storage]))).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/entry a\/data\.pkl claims 2147483647 bytes, more than such an entry ever holds/),
    });
    // A deflated pickle of the right size still reads.
    const deflated = { ...pkl, data: deflateRawSync(pkl.data), method: 8, size: pkl.data.length };
    expect([...(await values(await file(zipArchive([deflated, storage])), 'w'))]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps non-float storages (legacy masks) recognisable', async () => {
    const path = await file(zipArchive([{ name: 'a/data.pkl', data: statePickle('BoolStorage') }, { name: 'a/data/0', data: new Uint8Array(7) }]));
    expect((await readPytorchCheckpoint(path)).get('w')).toMatchObject({ dtype: 'BOOL', shape: [2, 3] });
  });

  it('tells the legacy format, other files and damaged zips apart', async () => {
    await expect(readPytorchCheckpoint(join(FILES, 'legacy-format.bin'))).rejects.toMatchObject({ code: 'unsupported' });
    await expect(readPytorchCheckpoint(await file(Buffer.from('<html>not found</html>')))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining('not a PyTorch checkpoint'),
    });
    const whole = zipArchive([{ name: 'a/data.pkl', data: statePickle() }]);
    await expect(readPytorchCheckpoint(await file(whole.subarray(0, whole.length - 30)))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/damaged zip archive.*truncated/),
    });
    const badOffset = Buffer.from(whole);
    badOffset.writeUInt32LE(0x7fffffff, badOffset.length - 6);
    await expect(readPytorchCheckpoint(await file(badOffset))).rejects.toThrow(/outside the file; it is probably truncated/);
  });
});
