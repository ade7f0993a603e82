/**
 * Branches: where in the text the branch panel looks, the tree it shows, and what restoring a branch changes.
 *
 * The point is where the generation the cursor is in (accepted text, marked with its history entry) was made, else
 * the cursor itself. The tree comes from the history (history.branches): the generations made at the point, and as
 * their children those made after one of them was accepted. The text holds one path of it (the chain: the accepted
 * generation at the point, then its accepted continuation right after it, and so on); restoring a node replaces
 * the part of the chain that differs from the node's path with that path's texts.
 */
import type { OutputOf } from '../../src-main/contract/contract';
import { MAX_BRANCH_POINT, type GenerationStatus } from '../../src-main/contract/store';
import { textBeforeCursor } from '../../src-main/manuscript/ruby';
import type { Range } from './schema';

export type BranchNode = OutputOf<'history.branches'>['nodes'][number];

export interface BranchPoint {
  /** Where the point is, as an offset of the stored text. */
  at: number;
  /** The model's text before the point (ruby notation stripped), its tail. */
  before: string;
  /** The accepted generation in the text that the point belongs to (the one holding the cursor); null when none. */
  inText: number | null;
}

/** Each generation's text in the document, as one [from, to) span of the stored text (its ranges may be several paragraphs). */
function spans(generated: readonly Range[]): Map<number, { from: number; to: number }> {
  const result = new Map<number, { from: number; to: number }>();
  for (const [from, to, id] of generated) {
    if (id === undefined) continue;
    const span = result.get(id);
    result.set(id, span ? { from: Math.min(span.from, from), to: Math.max(span.to, to) } : { from, to });
  }
  return result;
}

/** The point of the cursor: the start of the accepted generation it is in or right after, else the cursor. */
export function pointAt(text: string, cursor: number, generated: readonly Range[]): BranchPoint {
  let found: { id: number; from: number } | null = null;
  for (const [id, span] of spans(generated)) {
    // Right after one and right before the next, the cursor belongs to the one it follows.
    if (span.from <= cursor && cursor <= span.to && (!found || span.to === cursor)) found = { id, from: span.from };
  }
  const at = found?.from ?? cursor;
  return { at, before: textBeforeCursor(text, at).slice(-MAX_BRANCH_POINT), inText: found?.id ?? null };
}

/** The chain of generations in the text from the point: the one there, then each one's child that follows it. */
export function chainInText(point: BranchPoint, nodes: readonly BranchNode[], generated: readonly Range[]): number[] {
  if (point.inText === null) return [];
  const where = spans(generated);
  const chain = [point.inText];
  for (;;) {
    const last = chain.at(-1)!;
    const end = where.get(last)!.to;
    const next = nodes.find((n) => n.parentId === last && where.get(n.id)?.from === end);
    if (!next) return chain;
    chain.push(next.id);
  }
}

/** The nodes from the point down to `id`. */
function pathTo(nodes: readonly BranchNode[], id: number): BranchNode[] {
  const path: BranchNode[] = [];
  for (let node = nodes.find((n) => n.id === id); node; node = nodes.find((n) => n.id === node!.parentId)) path.unshift(node);
  return path;
}

export interface RestorePlan {
  /** The stored text's [from, to) that goes… */
  from: number;
  to: number;
  /** …and the generations' texts that come in its place, in order. */
  parts: { id: number; text: string }[];
  /** The generations that leave the text, and those that come into it, with their statuses before. */
  removed: number[];
  added: number[];
  prior: Map<number, GenerationStatus>;
}

/** What restoring node `id` changes; null when its path is the text's already. */
export function planRestore(point: BranchPoint, nodes: readonly BranchNode[], generated: readonly Range[], id: number): RestorePlan | null {
  const chain = chainInText(point, nodes, generated);
  const path = pathTo(nodes, id);
  let same = 0;
  while (same < chain.length && same < path.length && chain[same] === path[same]!.id) same++;
  if (same === chain.length && same === path.length) return null;
  const where = spans(generated);
  const from = same === 0 ? point.at : where.get(chain[same - 1]!)!.to;
  const to = chain.length > same ? where.get(chain.at(-1)!)!.to : from;
  const prior = new Map(nodes.map((n) => [n.id, n.status]));
  return {
    from,
    to,
    parts: path.slice(same).map((n) => ({ id: n.id, text: n.text })),
    removed: chain.slice(same),
    added: path.slice(same).map((n) => n.id),
    prior,
  };
}

export interface TreeItem {
  node: BranchNode;
  children: TreeItem[];
}

/** The flat answer as a tree (the nodes come breadth first, so a parent always comes before its children). */
export function toTree(nodes: readonly BranchNode[]): TreeItem[] {
  const items = new Map<number, TreeItem>();
  const roots: TreeItem[] = [];
  for (const node of nodes) {
    const item = { node, children: [] };
    items.set(node.id, item);
    const parent = node.parentId === null ? undefined : items.get(node.parentId);
    (parent ? parent.children : roots).push(item);
  }
  return roots;
}
