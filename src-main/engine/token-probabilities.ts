/**
 * Token probabilities for the writer (asked per request; nothing here runs otherwise): each generated token's top
 * candidates with their probability after the sampling filters (the distribution the sampler drew from) and their
 * raw softmax probability, read from the scores of the step that chose it, and the grouping of tokens into the
 * streamed text, so that every token shown covers whole characters.
 */
import type { TokenCandidate, TokenProbabilities } from '../contract/generation';

/** What the candidates' texts come from: the tokenizer (see Tokenizer.tokenText). */
export type TokenText = (id: number) => { text: string; special: boolean };

export interface CandidateIds {
  chosen: number;
  ids: number[];
  p: number[];
  raw: number[];
}

/**
 * The `top` most probable tokens after the filters (ties: the higher raw logit, then the lower id, so that greedy's
 * argmax comes first), then by raw probability among those filtered out; the chosen token is always among them
 * (added last when it is not). `processed` is the sampler's scores of this step, -Infinity where filtered out.
 * Probabilities are float64 softmaxes over ascending ids, computed as `distribution` does.
 */
export function topCandidates(logits: Float32Array, processed: Float32Array, chosen: number, top: number): CandidateIds {
  let maxRaw = -Infinity;
  let maxKept = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i]! > maxRaw) maxRaw = logits[i]!;
    if (processed[i]! > maxKept) maxKept = processed[i]!;
  }
  let totalRaw = 0;
  let totalKept = 0;
  for (let i = 0; i < logits.length; i++) {
    totalRaw += Math.exp(logits[i]! - maxRaw);
    if (processed[i]! > -Infinity) totalKept += Math.exp(processed[i]! - maxKept);
  }
  // A short list kept sorted best first: most tokens lose to its last entry at one comparison.
  const best: number[] = [];
  const better = (a: number, b: number) => {
    const pa = processed[a]!;
    const pb = processed[b]!;
    if (pa !== pb) return pa > pb;
    return logits[a]! > logits[b]! || (logits[a] === logits[b] && a < b);
  };
  for (let i = 0; i < logits.length; i++) {
    if (best.length === top && !better(i, best[top - 1]!)) continue;
    let at = Math.min(best.length, top - 1);
    while (at > 0 && better(i, best[at - 1]!)) at--;
    best.splice(at, 0, i);
    if (best.length > top) best.pop();
  }
  if (!best.includes(chosen)) best.push(chosen);
  return {
    chosen,
    ids: best,
    p: best.map((id) => (processed[id]! > -Infinity ? Math.exp(processed[id]! - maxKept) / totalKept : 0)),
    raw: best.map((id) => Math.exp(logits[id]! - maxRaw) / totalRaw),
  };
}

/**
 * One alternative's tokens against its text. A token that adds no text yet (a byte of a character still incomplete,
 * a ▁ dropped at the start) opens a group that the following tokens join until text appears; the group is shown as
 * one token with the candidates of its first token, where the choice was made. A group is released once text at
 * its offset has been streamed, so a stop string held back (or cut off) never shows a token beyond the text.
 */
export class TokenTrail {
  private decoded = 0;
  private open: TokenProbabilities | null = null;
  private readonly ready: TokenProbabilities[] = [];
  private released = 0;

  constructor(private readonly tokenText: TokenText) {}

  /** A token was chosen and the decoder gave `decoded` for it (possibly ''). */
  push(candidates: CandidateIds, decoded: string): void {
    if (!this.open) {
      const chosen = candidates.ids.indexOf(candidates.chosen);
      const list: TokenCandidate[] = candidates.ids.map((id, i) => ({ ...this.tokenText(id), p: candidates.p[i]!, raw: candidates.raw[i]! }));
      this.open = { at: this.decoded, chosen, candidates: list };
    }
    this.text(decoded);
  }

  /** Text the decoder gave without a token (what it held back, at the end). */
  text(decoded: string): void {
    this.decoded += decoded.length;
    if (decoded.length > 0 && this.open) {
      this.ready.push(this.open);
      this.open = null;
    }
  }

  /** The groups that start within the first `streamed` characters of the text, not released before. */
  release(streamed: number): TokenProbabilities[] {
    const from = this.released;
    while (this.released < this.ready.length && this.ready[this.released]!.at < streamed) this.released++;
    return this.ready.slice(from, this.released);
  }
}
