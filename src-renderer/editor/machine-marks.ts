/**
 * Text accepted from the model keeps its mark (the schema's `generated`) until the writer changes it; undo, redo and
 * accepting put marks back as they were.
 * - Typing or pasting: ProseMirror gives a character typed inside a marked run that run's marks; the mark goes from
 *   whatever such an edit inserts.
 * - An IME: ProseMirror reads the composed run back from the page without its mark, so the model's characters on
 *   either side of what was composed lost it. When the composition has ended (changing marks under the IME would
 *   break it), the text is compared with the text before it: the unchanged characters get their marks back, the
 *   composed ones have none.
 */
import type { Node } from 'prosemirror-model';
import { Plugin, PluginKey, type EditorState, type Transaction } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { docToText, offsetToPos, schema, type Range } from './schema';

type Pending = readonly (readonly [from: number, to: number])[];

const key = new PluginKey<Pending>('machine-marks');
const FLUSHED = 'flushed';

function unmark(tr: Transaction, pending: Pending): Transaction {
  for (const [from, to] of pending) tr.removeMark(from, to, schema.marks.generated!);
  return tr.setMeta(key, FLUSHED);
}

/** The model's ranges of `text` as a composition left them: those of `before` outside the composed part. */
function marksAfterComposition(before: { text: string; generated: Range[] }, text: string): { from: number; to: number; ranges: Range[] } {
  const limit = Math.min(before.text.length, text.length);
  let prefix = 0;
  while (prefix < limit && before.text[prefix] === text[prefix]) prefix++;
  let suffix = 0;
  while (suffix < limit - prefix && before.text[before.text.length - 1 - suffix] === text[text.length - 1 - suffix]) suffix++;
  const delta = text.length - before.text.length;
  const ranges: Range[] = [];
  const keep = (from: number, to: number, id: number | undefined, shift: number) => {
    if (from < to) ranges.push(id === undefined ? [from + shift, to + shift] : [from + shift, to + shift, id]);
  };
  for (const [from, to, id] of before.generated) {
    keep(from, Math.min(to, prefix), id, 0);
    keep(Math.max(from, before.text.length - suffix), to, id, delta);
  }
  // ProseMirror re-reads whole paragraphs at most: the marks are set again over the paragraphs around the change.
  const start = prefix === 0 ? 0 : text.lastIndexOf('\n', prefix - 1) + 1;
  const newline = text.indexOf('\n', text.length - suffix);
  return { from: start, to: newline === -1 ? text.length : newline, ranges };
}

function restoreMarks(before: Node, state: EditorState): Transaction | null {
  const now = docToText(state.doc);
  const { from, to, ranges } = marksAfterComposition(docToText(before), now.text);
  const inWindow = (list: readonly Range[]) =>
    list.map(([a, b, id]) => [Math.max(a, from), Math.min(b, to), id ?? null] as const).filter(([a, b]) => a < b);
  const wanted = inWindow(ranges);
  if (JSON.stringify(wanted) === JSON.stringify(inWindow(now.generated))) return null;
  const type = schema.marks.generated!;
  const tr = state.tr.removeMark(offsetToPos(state.doc, from), offsetToPos(state.doc, to), type);
  for (const [a, b, id] of wanted) tr.addMark(offsetToPos(state.doc, a), offsetToPos(state.doc, b), type.create({ id }));
  return tr;
}

/** `isWritersEdit`: whether a transaction is the writer's own edit (not undo, redo or an acceptance). */
export function machineMarksPlugin(isWritersEdit: (tr: Transaction) => boolean): Plugin<Pending> {
  let view: EditorView | null = null;
  /** The document when the composition under way started. */
  let composedFrom: Node | null = null;
  return new Plugin<Pending>({
    key,
    state: {
      init: () => [],
      apply(tr, pending) {
        if (tr.getMeta(key) === FLUSHED) return [];
        if (!tr.docChanged) return pending;
        const next = pending.map(([from, to]) => [tr.mapping.map(from, 1), tr.mapping.map(to, -1)] as const).filter(([from, to]) => from < to);
        if (!isWritersEdit(tr)) return next;
        tr.mapping.maps.forEach((map, i) =>
          map.forEach((_a, _b, start, end) => {
            const rest = tr.mapping.slice(i + 1);
            const from = rest.map(start, 1);
            const to = rest.map(end, -1);
            if (from < to && tr.doc.rangeHasMark(from, to, schema.marks.generated!)) next.push([from, to]);
          }),
        );
        return next;
      },
    },
    // Appended to the edit, so undo takes both back at once.
    appendTransaction(_trs, _old, state) {
      const pending = key.getState(state) ?? [];
      return pending.length === 0 || view?.composing ? null : unmark(state.tr, pending);
    },
    props: {
      handleDOMEvents: {
        compositionstart(v) {
          composedFrom ??= v.state.doc;
          return false;
        },
        // ProseMirror ends the composition 20 ms after the event, taking the composed text from the page.
        compositionend(v) {
          setTimeout(() => {
            if (v.composing || v.isDestroyed || !composedFrom) return;
            const before = composedFrom;
            composedFrom = null;
            const tr = restoreMarks(before, v.state);
            if (tr) v.dispatch(tr.setMeta(key, FLUSHED).setMeta('addToHistory', false));
          }, 50);
          return false;
        },
      },
    },
    view(editorView) {
      view = editorView;
      return {
        destroy() {
          view = null;
        },
      };
    },
  });
}
