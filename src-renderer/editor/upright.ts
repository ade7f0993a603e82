/**
 * 縦中横 in the editor: the runs manuscript/upright.ts finds (a two-digit number, !? !! ?!) get an inline decoration,
 * a span that CSS sets upright in vertical writing (in horizontal writing it changes nothing). Only the paragraphs an
 * edit touches are searched again, so typing in a 200,000-character document costs what it costs in a short one.
 */
import type { Node } from 'prosemirror-model';
import { Plugin } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';
import { uprightRuns } from '../../src-main/manuscript/upright';

function paragraphDecorations(paragraph: Node, start: number): Decoration[] {
  // A paragraph holds text only; its text starts one position after the paragraph's own.
  return uprightRuns(paragraph.textContent).map(([from, to]) => Decoration.inline(start + 1 + from, start + 1 + to, { class: 'upright' }));
}

export const uprightPlugin = new Plugin<DecorationSet>({
  state: {
    init(_config, state) {
      const decorations: Decoration[] = [];
      state.doc.forEach((paragraph, start) => decorations.push(...paragraphDecorations(paragraph, start)));
      return DecorationSet.create(state.doc, decorations);
    },
    apply(tr, set) {
      if (!tr.docChanged) return set;
      let next = set.map(tr.mapping, tr.doc);
      // The paragraphs the steps changed, in the new document.
      const touched = new Map<number, Node>();
      tr.mapping.maps.forEach((map, i) =>
        map.forEach((_a, _b, from, to) => {
          const rest = tr.mapping.slice(i + 1);
          const a = rest.map(from, -1);
          const b = rest.map(to, 1);
          tr.doc.nodesBetween(Math.max(0, a - 1), Math.min(b + 1, tr.doc.content.size), (node, pos) => {
            touched.set(pos, node);
            return false;
          });
        }),
      );
      for (const [pos, paragraph] of touched) {
        const end = pos + paragraph.nodeSize;
        next = next.remove(next.find(pos, end)).add(tr.doc, paragraphDecorations(paragraph, pos));
      }
      return next;
    },
  },
  props: {
    decorations(state) {
      return this.getState(state);
    },
  },
});
