import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../../../src-main/model/format/dtype';
import { readSafetensorsHeader } from '../../../src-main/model/format/safetensors';
import { TensorFiles } from '../../../src-main/model/format/tensor-file';

/** A safetensors file: u64 little-endian header length, the JSON header, then `data`. */
function safetensors(header: unknown, data: Uint8Array, lengthOverride?: bigint): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

describe('readSafetensorsHeader', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsuzuki-safetensors-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  async function file(bytes: Buffer): Promise<string> {
    const path = join(dir, `f${n++}.safetensors`);
    await writeFile(path, bytes);
    return path;
  }

  it('locates each tensor by offset and reads it lazily', async () => {
    const a = new Float32Array([1.5, -2, 3.25, 0]);
    const b = new Uint16Array([0x3c00, 0xc000]); // fp16 1, -2
    const path = await file(
      safetensors(
        {
          __metadata__: { format: 'pt' },
          a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
          b: { dtype: 'F16', shape: [2], data_offsets: [16, 20] },
          mask: { dtype: 'BOOL', shape: [1, 1, 2, 2], data_offsets: [20, 24] },
        },
        Buffer.concat([Buffer.from(a.buffer), Buffer.from(b.buffer), Buffer.from([1, 0, 1, 1])]),
      ),
    );
    const tensors = await readSafetensorsHeader(path);
    expect([...tensors.keys()]).toEqual(['a', 'b', 'mask']);
    expect(tensors.get('mask')).toMatchObject({ dtype: 'BOOL', shape: [1, 1, 2, 2] });
    const files = new TensorFiles();
    expect(toFloat32(await files.read(tensors.get('a')!), 'F32')).toEqual(a);
    expect(toFloat32(await files.read(tensors.get('b')!), 'F16')).toEqual(new Float32Array([1, -2]));
    await files.close();
  });

  it.each([
    ['a file shorter than the length prefix', Buffer.from([1, 2, 3]), /only 3 bytes long \(truncated\)/],
    ['a header longer than the file', safetensors({}, Buffer.alloc(0), 1000n), /header runs past the end/],
    ['an absurd header length', safetensors({}, Buffer.alloc(0), 1n << 62n), /header claims/],
    ['a header that is not JSON', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a"')]), /header is not JSON/],
    ['a header that is an array', safetensors([], Buffer.alloc(0)), /header is not an object/],
    ['a missing dtype', safetensors({ a: { shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /tensor a has no dtype/],
    ['a bad shape', safetensors({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /invalid shape/],
    ['reversed offsets', safetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, Buffer.alloc(4)), /invalid data_offsets/],
    [
      'a byte count that disagrees with dtype and shape',
      safetensors({ a: { dtype: 'F16', shape: [3, 2], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      /tensor a \(F16 \[3,2\]\) needs 12 bytes but has 8/,
    ],
    [
      'data past the end of the file',
      safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(12)),
      /is truncated: tensor a ends at byte \d+ but the file has \d+ bytes. Download it again/,
    ],
    [
      'two tensors over the same bytes',
      safetensors(
        {
          a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
          b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
        },
        Buffer.alloc(16),
      ),
      /tensor b overlaps tensor a \(bytes 8–16\). Download it again/,
    ],
    [
      'a tensor inside another (listed first)',
      safetensors(
        {
          inner: { dtype: 'F16', shape: [2], data_offsets: [4, 8] },
          outer: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        },
        Buffer.alloc(16),
      ),
      /tensor inner overlaps tensor outer/,
    ],
    [
      'bytes between tensors that no tensor accounts for',
      safetensors(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
        },
        Buffer.alloc(12),
      ),
      /bytes 4–8 of the data, before tensor b, belong to no tensor/,
    ],
    [
      'bytes after the last tensor',
      safetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(1004)),
      /1000 bytes after the last tensor belong to no tensor/,
    ],
    [
      'a shape whose element count overflows',
      safetensors({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, Buffer.alloc(4)),
      /tensor a has an impossible shape/,
    ],
  ])('refuses %s, naming the file', async (_, bytes, message) => {
    const path = await file(bytes);
    const error = await readSafetensorsHeader(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'corrupt_file' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(path);
  });

  it('refuses an unknown dtype as unsupported, naming it', async () => {
    const path = await file(safetensors({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)));
    await expect(readSafetensorsHeader(path)).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringContaining(`${path}: tensor a has dtype F8_E4M3`),
    });
  });
});
