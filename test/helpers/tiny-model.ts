/** The tiny fixture model (random weights, real formats) converted into a temp folder for end-to-end tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src-main/model/convert/convert';
import type { Precision } from '../../src-main/model/convert/weights';
import { repoRoot } from './serve';

export async function convertTinyModel(source = 'tiny-safetensors-fp32', precision: Precision = 'fp32'): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'tsuzuki-e2e-model-')), 'model');
  await convertCheckpoint(join(repoRoot, 'test/fixtures/model', source), dir, { precision, blockSize: 32 });
  return dir;
}
