import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile, verifyFile } from '../../../src-main/model/format/checksum';
import { randomBytesSeeded } from '../../helpers/fake-hub';

let dir: string;
const big = randomBytesSeeded(9 << 20, 5);
const small = Buffer.from('{"model_type":"gpt2"}\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsuzuki-hash-'));
  await writeFile(join(dir, 'big.bin'), big);
  await writeFile(join(dir, 'small.json'), small);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  it('hashes a large file in the worker, with progress, and a small one in place', async () => {
    const seen: number[] = [];
    const result = await hashFile(join(dir, 'big.bin'), 'sha256', { onBytes: (n) => seen.push(n) });
    expect(result).toEqual({ hex: createHash('sha256').update(big).digest('hex'), size: big.length });
    const git = createHash('sha1').update(`blob ${big.length}\0`).update(big).digest('hex');
    expect((await hashFile(join(dir, 'big.bin'), 'git-sha1')).hex).toBe(git);
    expect((await hashFile(join(dir, 'small.json'), 'sha256')).hex).toBe(createHash('sha256').update(small).digest('hex'));
    expect(await verifyFile(join(dir, 'small.json'), { algorithm: 'sha256', value: '0'.repeat(64) })).toBe(false);
  });

  it('can be cancelled, and names a missing file', async () => {
    const controller = new AbortController();
    const pending = hashFile(join(dir, 'big.bin'), 'sha256', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await expect(hashFile(join(dir, 'nope.bin'), 'sha256')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('nope.bin') });
  });
});
