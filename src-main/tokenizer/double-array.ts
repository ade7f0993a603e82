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
}

const offsetOf = (unit: number) => (unit >>> 10) << ((unit & 0x200) >>> 6);

/**
 * Builds a double array for `keys` (byte strings, no key may be empty) mapping each to `values[i]`.
 * Layout is our own (first-fit), but lookups use the same unit encoding as `DoubleArray`.
 */
export function buildDoubleArray(keys: Uint8Array[], values: Int32Array): Uint32Array {
  // A plain pointer trie first, children sorted by label.
  const order = keys.map((_, i) => i).sort((a, b) => compareBytes(keys[a]!, keys[b]!));
  interface Node {
    labels: number[];
    children: Node[];
    value: number;
  }
  const root: Node = { labels: [], children: [], value: -1 };
  for (const i of order) {
    const key = keys[i]!;
    let node = root;
    for (const c of key) {
      const last = node.labels.length - 1;
      if (last >= 0 && node.labels[last] === c) node = node.children[last]!;
      else {
        const child: Node = { labels: [], children: [], value: -1 };
        node.labels.push(c);
        node.children.push(child);
        node = child;
      }
    }
    node.value = values[i]!;
  }

  let cap = 1024;
  let units = new Uint32Array(cap);
  let used = new Uint8Array(cap);
  const grow = (need: number) => {
    if (need < cap) return;
    while (cap <= need) cap *= 2;
    const u2 = new Uint32Array(cap);
    u2.set(units);
    units = u2;
    const s2 = new Uint8Array(cap);
    s2.set(used);
    used = s2;
  };
  used[0] = 1;
  let firstFree = 1;
  // Each base may serve one parent only, or a lookup from one parent could land on another's child.
  const usedBase = new Set<number>();

  // BFS: a node at `index` keeps its children (and its leaf, label 0) at base ^ label, and stores
  // index ^ base as its offset.
  const queue: [Node, number][] = [[root, 0]];
  for (let q = 0; q < queue.length; q++) {
    const [node, index] = queue[q]!;
    const labels = node.value >= 0 ? [0, ...node.labels] : node.labels;
    if (labels.length === 0) continue;
    let base = 0;
    for (let pos = firstFree; ; pos++) {
      grow(pos + 256);
      if (used[pos]) continue;
      const candidate = pos ^ labels[0]!;
      if (!usedBase.has(candidate) && labels.every((l) => !used[candidate ^ l])) {
        base = candidate;
        break;
      }
    }
    usedBase.add(base);
    const offset = index ^ base;
    if (offset >= 1 << 21) throw new Error('vocabulary too large for the double array');
    units[index] = (units[index]! & 0xff) | (offset << 10) | (node.value >= 0 ? 0x100 : 0);
    for (const l of labels) used[base ^ l] = 1;
    while (used[firstFree]) firstFree++;
    if (node.value >= 0) units[base] = (node.value | 0x80000000) >>> 0;
    node.labels.forEach((l, k) => {
      const slot = base ^ l;
      units[slot] = l;
      queue.push([node.children[k]!, slot]);
    });
  }
  let size = cap;
  while (size > 1 && !used[size - 1]) size--;
  // Slack so that `node ^ byte` never reads past the end.
  const out = new Uint32Array(size + 256);
  out.set(units.subarray(0, size));
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
