/**
 * Darts-clone double-array tries over bytes. `DoubleArray` reads the units SentencePiece stores in its
 * precompiled_charsmap; `buildDoubleArray` makes the same structure for a vocabulary at load time, so
 * both lookups cost one array read per byte.
 *
 * Unit layout (darts.h): bit 8 = has_leaf, bits 0-7 (+ bit 31) = label, offset = (u >>> 10) << ((u & 512) >>> 6),
 * a leaf unit holds its value in bits 0-30 and has bit 31 set.
 */
export class DoubleArray {
  constructor(readonly units: Uint32Array) {}

  /**
   * Longest key that is a prefix of bytes[pos, end): returns its length (0 if none) and leaves its value
   * in `this.value`. Mirrors commonPrefixSearch followed by "keep the longest".
   */
  value = 0;
  longestPrefix(bytes: Uint8Array, pos: number, end: number): number {
    const u = this.units;
    const n = u.length;
    let node = offsetOf(u[0]!);
    let best = 0;
    for (let i = pos; i < end; i++) {
      const c = bytes[i]!;
      node ^= c;
      if (node >= n) return best;
      const unit = u[node]!;
      if ((unit & 0x800000ff) !== c) return best;
      node ^= offsetOf(unit);
      if (unit & 0x100) {
        best = i + 1 - pos;
        this.value = u[node]! & 0x7fffffff;
      }
    }
    return best;
  }

  /** Length in bytes of the longest key (a depth-first walk over every label of every node). */
  maxKeyLength(): number {
    const u = this.units;
    let max = 0;
    const stack: number[] = [offsetOf(u[0]!), 0];
    while (stack.length > 0) {
      const depth = stack.pop()!;
      const base = stack.pop()!;
      for (let c = 1; c < 256; c++) {
        const child = base ^ c;
        if (child >= u.length || (u[child]! & 0x800000ff) !== c) continue;
        const unit = u[child]!;
        if (unit & 0x100 && depth + 1 > max) max = depth + 1;
        stack.push(child ^ offsetOf(unit), depth + 1);
      }
    }
    return max;
  }
}

const offsetOf = (unit: number) => (unit >>> 10) << ((unit & 0x200) >>> 6);

/**
 * Builds a double array for `keys` (byte strings, no key may be empty) mapping each to `values[i]`.
 * Layout is our own (first-fit), but lookups use the same unit encoding as `DoubleArray`.
 */
export function buildDoubleArray(keys: Uint8Array[], values: Int32Array): Uint32Array {
  // Keys sorted bytewise (latin1 strings compare like their bytes): the keys under a trie node form one
  // contiguous range, so nodes are just (range, depth) and no pointer trie is built.
  const latin1 = keys.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1'));
  const sorted = Int32Array.from(keys.keys()).sort((a, b) => (latin1[a]! < latin1[b]! ? -1 : latin1[a]! > latin1[b]! ? 1 : 0));
  let total = 1;
  for (const k of keys) total += k.length + 1;
  // Sized so the search never runs off the end; retried larger in the unlikely case it does.
  for (let cap = Math.max(4096, total * 4); ; cap *= 2) {
    const units = place(keys, values, sorted, cap);
    if (units) return units;
  }
}

/** One build attempt in an array of `cap` units; null when it does not fit. */
function place(keys: Uint8Array[], values: Int32Array, sorted: Int32Array, cap: number): Uint32Array | null {
  // Free units get bit 31, like leaves, so that no byte (not even 0) matches their label.
  const units = new Uint32Array(cap).fill(0x80000000);
  const used = new Uint8Array(cap);
  // Each base may serve one parent only, or a lookup from one parent could land on another's child.
  const usedBase = new Uint8Array(cap);
  // Free slots form a doubly linked list so the search skips the densely used front of the array.
  const next = new Int32Array(cap);
  const prev = new Int32Array(cap);
  for (let i = 0; i < cap; i++) {
    next[i] = i + 1 < cap ? i + 1 : -1;
    prev[i] = i - 1;
  }
  let head = 0;
  // Like darts-clone, search only near the frontier: free slots far behind it are left unused, which
  // keeps the build linear instead of rescanning ever more hopeless slots.
  const WINDOW = 16 * 256;
  let start = 0;
  let frontier = 0;
  const take = (i: number) => {
    used[i] = 1;
    if (i > frontier) frontier = i;
    if (i === start) start = next[i]!;
    const p = prev[i]!;
    const n = next[i]!;
    if (p >= 0) next[p] = n;
    else head = n;
    if (n >= 0) prev[n] = p;
  };
  take(0);
  // Base 0 would put a leafless node's "label 0" slot on the root unit, whose label is 0: a NUL byte
  // would then match.
  usedBase[0] = 1;

  // Nodes are (lo, hi, depth, index): the keys sorted[lo, hi) share their first `depth` bytes and the node
  // sits at `index`. Its children (and its leaf, label 0) go at base ^ label; it stores index ^ base.
  // Depth first (a stack): a node's subtree is placed right after it, so a lookup walking one key touches
  // nearby units, which matters more for speed than a dense array.
  const stack: number[] = [0, sorted.length, 0, 0];
  const labels: number[] = [];
  const childLo: number[] = [];
  while (stack.length > 0) {
    const index = stack.pop()!;
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    labels.length = 0;
    childLo.length = 0;
    let leafValue = -1;
    for (let i = lo; i < hi; i++) {
      const key = keys[sorted[i]!]!;
      if (key.length === depth) {
        // A duplicate key keeps the first value, like a map insertion.
        if (leafValue < 0) leafValue = values[sorted[i]!]!;
        continue;
      }
      const c = key[depth]!;
      if (labels.length === 0 || labels[labels.length - 1] !== c) {
        labels.push(c);
        childLo.push(i);
      }
    }
    const hasLeaf = leafValue >= 0;
    if (!hasLeaf && labels.length === 0) continue;
    const first = hasLeaf ? 0 : labels[0]!;
    while (start >= 0 && start < frontier - WINDOW) start = next[start]!;
    if (start < 0) start = head;
    let base = -1;
    // Up to 256 tries among the free slots near the frontier; failing that, the first 256-block past the
    // frontier, where every slot is free and no base has been used yet (a used base's block holds its
    // children, all at or below the frontier).
    let tries = labels.length > 4 ? 0 : 256;
    for (let f = start; f >= 0 && tries > 0; f = next[f]!, tries--) {
      const candidate = f ^ first;
      if ((candidate | 0xff) >= cap || usedBase[candidate] || (hasLeaf && used[candidate])) continue;
      let ok = true;
      for (let k = 0; ok && k < labels.length; k++) if (used[candidate ^ labels[k]!]) ok = false;
      if (ok) {
        base = candidate;
        break;
      }
    }
    if (base < 0) base = (frontier | 0xff) + 1;
    if (base + 0xff >= cap) return null;
    usedBase[base] = 1;
    const offset = index ^ base;
    if (offset >= 1 << 21) throw new Error('vocabulary too large for the double array');
    units[index] = (units[index]! & 0xff) | (offset << 10) | (hasLeaf ? 0x100 : 0);
    if (hasLeaf) {
      take(base);
      units[base] = (leafValue | 0x80000000) >>> 0;
    }
    for (let k = labels.length - 1; k >= 0; k--) {
      const slot = base ^ labels[k]!;
      take(slot);
      units[slot] = labels[k]!;
      stack.push(childLo[k]!, k + 1 < labels.length ? childLo[k + 1]! : hi, depth + 1, slot);
    }
  }
  let size = cap;
  while (size > 1 && !used[size - 1]) size--;
  // Slack so that `node ^ byte` never reads past the end.
  const out = new Uint32Array(size + 256).fill(0x80000000);
  out.set(units.subarray(0, size));
  return out;
}
