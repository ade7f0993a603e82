/**
 * The trained quality fixture (test/fixtures/quality, made by make_quality_fixture.py) and the oracle's reference
 * quantizations of it (reference.json, made by test/oracle/quantization_reference.py): what the int4 tests and
 * `npm run bench -- quality` hold the converter to.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DecoderSession } from '../../src-main/engine/session';
import { argmax, klDivergence, logSoftmax } from '../integration/model/golden';

const QUALITY_DIR = fileURLToPath(new URL('../fixtures/quality/', import.meta.url));
export const QUALITY_MODEL = `${QUALITY_DIR}model`;

export interface Scores {
  /** Mean over every position of KL(fp32 ‖ candidate), nats. */
  meanKl: number;
  /** exp of the mean negative log-likelihood of each window's tokens after its first. */
  perplexity: number;
  /** Share of positions whose most likely token is fp32's. */
  top1Agreement: number;
}

export interface QualityReference {
  /** Held-out token windows the model never saw in training. */
  windows: number[][];
  fp32: { perplexity: number };
  /** Per-channel mean squares of each quantized matrix's input over `ids` (one row), by checkpoint name. */
  calibration: { ids: number[]; meanSquares: Record<string, number[]> };
  /** llama.cpp's Q4_0 (blocks of 32, absmax / -8). */
  q4_0: Scores;
  /** llama.cpp's Q4_K (super-blocks of 256, 6-bit sub-block scales and mins). */
  q4_k: Scores;
  /** Symmetric blocks of 128, scale = absmax / 7. */
  absmax7_b128: Scores;
}

export const qualityReference = JSON.parse(readFileSync(`${QUALITY_DIR}reference.json`, 'utf8')) as QualityReference;

/** A converted model's logits at every position of the reference windows. */
export async function windowLogits(dir: string, windows = qualityReference.windows): Promise<Float32Array[][]> {
  const session = await DecoderSession.load(dir, { threads: 2 });
  try {
    const out: Float32Array[][] = [];
    for (let i = 0; i < windows.length; i += 4) out.push(...(await session.sequenceLogits(windows.slice(i, i + 4), { allPositions: true })));
    return out;
  } finally {
    await session.release();
  }
}

/** `candidate` scored against `reference` (fp32) over `windows`, as the oracle scores its quantizations. */
export function scoreLogits(reference: Float32Array[][], candidate: Float32Array[][], windows = qualityReference.windows): Scores {
  let kl = 0;
  let nll = 0;
  let agree = 0;
  let positions = 0;
  let predicted = 0;
  candidate.forEach((rows, w) =>
    rows.forEach((row, t) => {
      kl += klDivergence(reference[w]![t]!, row);
      if (argmax(row) === argmax(reference[w]![t]!)) agree++;
      positions++;
      if (t + 1 < rows.length) {
        nll -= logSoftmax(row)[windows[w]![t + 1]!]!;
        predicted++;
      }
    }),
  );
  return { meanKl: kl / positions, perplexity: Math.exp(nll / predicted), top1Agreement: agree / positions };
}
