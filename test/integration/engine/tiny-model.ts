/** The tiny fixture model converted once per test file into a temp dir, loaded in onnxruntime. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GenerationRequest } from '../../../src-main/engine/generator';
import { resolveSamplingParams } from '../../../src-main/engine/sampler';
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

// The fixture's tokenizer ids (see test/fixtures/model/README.md): <unk> 1, </s> 3.
export const TINY_SPECIAL = { vocabSize: 1000, eosIds: [3], bannedIds: [1] };
/** Token text stand-in: the generator only streams what the decoder gives it. */
export const tagDecoder = () => ({ push: (id: number) => `<${id}>`, end: () => '' });
export const greedy = resolveSamplingParams({ doSample: false });
export const sampling = resolveSamplingParams({ topK: 50, topP: 0.95, temperature: 1.2 });

/** A generation request on the tiny model: 16 new tokens, sampled with seed 1, one alternative, unless told. */
export function tinyRequest(partial: Partial<GenerationRequest> & Pick<GenerationRequest, 'promptIds'>): GenerationRequest {
  return { maxNewTokens: 16, sampling, seed: 1, n: 1, createDecoder: tagDecoder, ...partial };
}
