/**
 * Perplexity with a sliding window, as in Hugging Face's perplexity guide: windows of `maxLength` tokens advance by
 * `stride`; each window scores only the tokens no earlier window scored (the rest is context), and the result is
 * exp of the mean negative log-likelihood over all scored tokens (every token after the first).
 */
import { TsuzukiError } from '../contract/errors';
import type { DecoderSession } from './session';

export interface PerplexityOptions {
  maxLength: number;
  stride: number;
  /** After each window: how many tokens it reached. */
  onWindow?: (end: number) => void;
}

export interface PerplexityResult {
  perplexity: number;
  meanNll: number;
  scoredTokens: number;
  windows: number;
}

export async function slidingPerplexity(session: DecoderSession, ids: number[], options: PerplexityOptions): Promise<PerplexityResult> {
  const { maxLength, stride } = options;
  if (!Number.isInteger(stride) || stride < 1 || stride > maxLength) {
    throw new TsuzukiError('invalid_argument', `The stride must be from 1 to ${maxLength} tokens (the window), got ${stride}.`);
  }
  if (ids.length < 2) throw new TsuzukiError('invalid_argument', 'The text has fewer than two tokens; there is nothing to score.');
  let nll = 0;
  let scored = 0;
  let windows = 0;
  let previousEnd = 0;
  for (let begin = 0; begin < ids.length; begin += stride) {
    const end = Math.min(begin + maxLength, ids.length);
    const window = ids.slice(begin, end);
    const { logits, dims } = await session.forward({ ids: [window], attentionMask: [window.map(() => 1)], positionIds: [window.map((_, i) => i)] });
    const vocab = dims[2];
    // Token t of the window is predicted by the logits at t - 1; only tokens after the previous window's end count.
    for (let t = Math.max(1, previousEnd - begin); t < window.length; t++) {
      nll -= logProb(logits.subarray((t - 1) * vocab, t * vocab), window[t]!);
      scored++;
    }
    windows++;
    previousEnd = end;
    options.onWindow?.(end);
    if (end === ids.length) break;
  }
  return { perplexity: Math.exp(nll / scored), meanNll: nll / scored, scoredTokens: scored, windows };
}

/** log softmax(row)[id], in double precision. */
function logProb(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return row[id]! - max - Math.log(sum);
}
