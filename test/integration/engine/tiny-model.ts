/** The tiny fixture model converted once per test file into a temp dir, loaded in onnxruntime. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DecoderSession } from '../../../src-main/engine/session';
import { convertCheckpoint } from '../../../src-main/model/convert/convert';
import type { Precision } from '../../../src-main/model/convert/weights';

const MODEL_FIXTURES = fileURLToPath(new URL('../../fixtures/model/', import.meta.url));

export interface TinyModel {
  dir: string;
  session: DecoderSession;
  dispose(): Promise<void>;
}

export async function convertTiny(source = 'tiny-safetensors-fp32', precision: Precision = 'fp32', blockSize = 32): Promise<TinyModel> {
  const root = await mkdtemp(join(tmpdir(), 'tsuzuki-engine-'));
  const dir = join(root, 'model');
  await convertCheckpoint(join(MODEL_FIXTURES, source), dir, { precision, blockSize });
  const session = await DecoderSession.load(dir, { threads: 1 });
  return {
    dir,
    session,
    async dispose() {
      await session.release();
      await rm(root, { recursive: true, force: true });
    },
  };
}
