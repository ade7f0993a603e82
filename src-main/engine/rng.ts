/**
 * The seeded random source of sampling. Algorithm (fixed, so that a seed gives the same text on every run and
 * platform): the 32-bit seed is expanded by SplitMix32 into the 128-bit state of xoshiro128** (Blackman & Vigna);
 * a uniform double in [0, 1) takes 53 bits from two consecutive outputs: `((a >>> 5) * 2^26 + (b >>> 6)) / 2^53`.
 * Only integer operations (Math.imul, shifts) touch the state, so the stream is bit-identical everywhere.
 */
import { MAX_SEED } from '../contract/generation-params';
import { assertGenerationParams } from './params';

/** Alternative `i` of a run seeded `seed` uses `alternativeSeed(seed, i)`: `n` alternatives equal `n` runs seeded seed, seed+1, … */
export function alternativeSeed(seed: number, index: number): number {
  return (seed + index) % (MAX_SEED + 1);
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    assertGenerationParams({ seed });
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  /** Next 32-bit output of xoshiro128**. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
