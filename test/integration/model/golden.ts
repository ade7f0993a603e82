/** The tiny GPT-2 fixtures (test/fixtures/model, made by make_fixtures.py) and their float64 golden logits. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/model/', import.meta.url));

interface GoldenEntry {
  ids: number[];
  /** Last position. */
  logits: number[];
  /** Every position (short sequences only). */
  allLogits?: number[][];
  greedy: number[];
}

interface GoldenFile {
  models: Record<string, 'fp32' | 'half'>;
  weights: Record<'fp32' | 'half', GoldenEntry[]>;
}

export const golden = JSON.parse(readFileSync(`${FIXTURES}golden.json`, 'utf8')) as GoldenFile;

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const log = Math.log(sum) + max;
  return Float64Array.from(row, (v) => v - log);
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** KL(p_reference ‖ p_candidate) in nats, for one position's logits. */
export function klDivergence(reference: ArrayLike<number>, candidate: ArrayLike<number>): number {
  const p = logSoftmax(reference);
  const q = logSoftmax(candidate);
  let kl = 0;
  for (let i = 0; i < p.length; i++) kl += Math.exp(p[i]!) * (p[i]! - q[i]!);
  return kl;
}
