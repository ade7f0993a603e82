/**
 * Hugging Face `generate()` logits processors, re-implemented over one row of float32 scores, in place.
 * Faithful to transformers' `generation/logits_process.py`:
 * - arithmetic on scores stays float32 (a Float32Array rounds every store; scalars are rounded to float32 first,
 *   as torch does for a python float against a float32 tensor);
 * - top-k keeps every score >= the k-th largest, so ties at the boundary are all kept;
 * - top-p sorts ascending (ties: lower token id first, torch's stable CPU sort), removes the prefix whose
 *   cumulative probability is <= 1 - top_p, and always keeps the `minKeep` most probable.
 * Removed tokens get -Infinity (HF's default `filter_value`).
 */

/** RepetitionPenaltyLogitsProcessor: each distinct earlier token once; negative scores are multiplied, others divided. */
export function applyRepetitionPenalty(scores: Float32Array, distinctIds: ArrayLike<number>, penalty: number): void {
  if (penalty === 1) return;
  const p = Math.fround(penalty);
  for (let i = 0; i < distinctIds.length; i++) {
    const id = distinctIds[i]!;
    const s = scores[id]!;
    scores[id] = s < 0 ? s * p : s / p;
  }
}

/** NoBadWordsLogitsProcessor for single-token bad words (e.g. `<unk>`). */
export function applyBannedTokens(scores: Float32Array, bannedIds: ArrayLike<number>): void {
  for (let i = 0; i < bannedIds.length; i++) scores[bannedIds[i]!] = -Infinity;
}

/** MinNewTokensLengthLogitsProcessor: EOS is impossible while fewer than `minNewTokens` tokens were generated. */
export function applyMinNewTokens(scores: Float32Array, eosIds: ArrayLike<number>, generated: number, minNewTokens: number): void {
  if (generated >= minNewTokens) return;
  for (let i = 0; i < eosIds.length; i++) scores[eosIds[i]!] = -Infinity;
}

/** TemperatureLogitsWarper. */
export function applyTemperature(scores: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  const t = Math.fround(temperature);
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / t;
}

/**
 * TopKLogitsWarper: keeps the scores >= the k-th largest (k raised to `minKeep`). `scratch` (at least k long)
 * holds the selection, so a step allocates nothing.
 */
export function applyTopK(scores: Float32Array, topK: number, minKeep = 1, scratch: Float32Array = new Float32Array(scores.length)): void {
  const k = Math.min(Math.max(topK, minKeep), scores.length);
  if (k >= scores.length) return;
  const threshold = kthLargest(scores, k, scratch);
  for (let i = 0; i < scores.length; i++) if (scores[i]! < threshold) scores[i] = -Infinity;
}

/**
 * The k-th largest value (1-based) of `values`, counting repeats: a min-heap of the k largest so far, kept in
 * `scratch`. With k much smaller than the vocabulary (500 of 44,928) nearly every value loses to the heap's root
 * at one comparison, so this is one pass, several times faster than a quickselect over a copy.
 */
export function kthLargest(values: Float32Array, k: number, scratch: Float32Array): number {
  const heap = scratch.length >= k ? scratch : new Float32Array(k);
  for (let i = 0; i < k; i++) heap[i] = values[i]!;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(heap, i, k);
  for (let i = k; i < values.length; i++) {
    const v = values[i]!;
    if (v > heap[0]!) {
      heap[0] = v;
      siftDown(heap, 0, k);
    }
  }
  return heap[0]!;
}

/** Moves `heap[at]` down its min-heap of `size` until no child is smaller. */
function siftDown(heap: Float32Array, at: number, size: number): void {
  const v = heap[at]!;
  let i = at;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
    if (!(heap[child]! < v)) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = v;
}

/**
 * TopPLogitsWarper. Only tokens still finite take part in the sort: removed ones have probability 0, sit first
 * in the ascending order with cumulative 0 and stay removed, exactly as in HF; after top-k that is ~k tokens.
 */
export function applyTopP(scores: Float32Array, topP: number, minKeep = 1): void {
  if (topP >= 1) return;
  const ids = ascendingFinite(scores);
  const n = ids.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, scores[ids[i]!]!);
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.exp(scores[ids[i]!]! - max);
  // torch compares the float32 cumulative sum against 1 - top_p rounded to float32.
  const limit = Math.fround(1 - topP);
  const removable = n - minKeep;
  let cumulative = 0;
  for (let i = 0; i < removable; i++) {
    const id = ids[i]!;
    cumulative += Math.exp(scores[id]! - max) / total;
    if (Math.fround(cumulative) > limit) break;
    scores[id] = -Infinity;
  }
}

/**
 * Ids of the finite scores in ascending order of (score, id). Without top-k this is the whole vocabulary, so
 * instead of a comparator sort the scores become order-preserving 32-bit keys and a stable LSD radix sort (three
 * 11-bit passes) orders them; the ids go in ascending, so equal scores stay in id order.
 */
function ascendingFinite(scores: Float32Array): Int32Array {
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  let count = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > -Infinity) count++;
  let keys = new Uint32Array(count);
  let ids = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (!(v > -Infinity)) continue;
    // IEEE order as unsigned integers: flip all bits of negatives, the sign bit of positives; -0 counts as +0.
    keys[j] = v === 0 ? 0x80000000 : bits[i]! & 0x80000000 ? ~bits[i]! >>> 0 : (bits[i]! | 0x80000000) >>> 0;
    ids[j++] = i;
  }
  let keysOut = new Uint32Array(count);
  let idsOut = new Int32Array(count);
  const counts = new Uint32Array(2048);
  for (const shift of [0, 11, 22]) {
    counts.fill(0);
    for (let k = 0; k < count; k++) counts[(keys[k]! >>> shift) & 2047]!++;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let k = 0; k < count; k++) {
      const at = counts[(keys[k]! >>> shift) & 2047]!++;
      keysOut[at] = keys[k]!;
      idsOut[at] = ids[k]!;
    }
    [keys, keysOut] = [keysOut, keys];
    [ids, idsOut] = [idsOut, ids];
  }
  return ids;
}

function finiteIds(scores: Float32Array): Int32Array {
  let count = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > -Infinity) count++;
  const ids = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > -Infinity) ids[j++] = i;
  return ids;
}

/** softmax of the processed scores, over the tokens still possible, in ascending token id order. */
export function distribution(scores: Float32Array): { ids: Int32Array; probs: Float64Array } {
  const ids = finiteIds(scores);
  let max = -Infinity;
  for (let i = 0; i < ids.length; i++) max = Math.max(max, scores[ids[i]!]!);
  const probs = new Float64Array(ids.length);
  let total = 0;
  for (let i = 0; i < ids.length; i++) total += probs[i] = Math.exp(scores[ids[i]!]! - max);
  for (let i = 0; i < ids.length; i++) probs[i] = probs[i]! / total;
  return { ids, probs };
}

/** torch.argmax: the first index of the maximum. */
export function argmax(scores: Float32Array): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! > bestScore) {
      bestScore = scores[i]!;
      best = i;
    }
  }
  return best;
}
