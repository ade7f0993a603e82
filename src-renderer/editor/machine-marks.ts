/**
 * Text accepted from the model keeps its mark (the schema's `generated`) until the writer changes it. ProseMirror
 * gives a character typed inside a marked run that run's marks; what the writer types, pastes or composes there is
 * the writer's, so the mark goes from whatever such an edit inserts (undo, redo and accepting put marks back as they
 * were). Under an IME the mark waits for the composition's end: changing the text under the IME would break it.
 */
import { Plugin, PluginKey, type Transaction } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { schema } from './schema';

type Pending = readonly (readonly [from: number, to: number])[];

const key = new PluginKey<Pending>('machine-marks');
const FLUSHED = 'flushed';

/** `isWritersEdit`: whether a transaction is the writer's own edit (not undo, redo or an acceptance). */
export function machineMarksPlugin(isWritersEdit: (tr: Transaction) => boolean): Plugin<Pending> {
  let view: EditorView | null = null;
  const unmark = (tr: Transaction, pending: Pending) => {
    for (const [from, to] of pending) tr.removeMark(from, to, schema.marks.generated!);
    return tr.setMeta(key, FLUSHED);
  };
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
        // A composition that ended inside the model's text: its characters lose the mark once ProseMirror has
        // ended the composition (it takes the composed text from the page 20 ms after the event).
        compositionend(v) {
          setTimeout(() => {
            const pending = key.getState(v.state) ?? [];
            if (pending.length > 0 && !v.composing && !v.isDestroyed) v.dispatch(unmark(v.state.tr, pending).setMeta('addToHistory', false));
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
