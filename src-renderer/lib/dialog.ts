/**
 * The one way a panel or screen opens and closes: focus moves into it when it opens, Escape closes it (unless
 * something inside used the key), and when it goes — by Escape, by its button, by anything — focus returns to the
 * editor, whose ProseMirror state keeps its selection while blurred, so the cursor is where the writer left it.
 */
import { isImeEvent } from '../editor/shortcuts';

/** How the editor takes focus back (set by the editor while it exists). */
let editorFocus: (() => void) | null = null;
/** Dialogs open now, the newest last: closing one over another (the models screen over a panel) goes back to that one. */
const open: HTMLElement[] = [];

/** The editor says how it takes focus back; the function returned forgets it again (when the editor goes). */
export function setEditorFocus(focus: () => void): () => void {
  editorFocus = focus;
  return () => {
    if (editorFocus === focus) editorFocus = null;
  };
}

/** Svelte action: `use:dialog={close}` on the element of a panel or screen. */
export function dialog(node: HTMLElement, close: () => void) {
  let onClose = close;
  open.push(node);
  node.tabIndex = -1;
  if (!node.contains(document.activeElement)) node.focus({ preventScroll: true });
  const keydown = (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || event.defaultPrevented || isImeEvent(event)) return;
    event.preventDefault();
    onClose();
  };
  node.addEventListener('keydown', keydown);
  return {
    update(next: () => void) {
      onClose = next;
    },
    destroy() {
      node.removeEventListener('keydown', keydown);
      open.splice(open.indexOf(node), 1);
      // After the update that removed it: a view it hid (the models screen hides the editor) is shown again by then,
      // and a dialog that replaced it has taken focus already.
      queueMicrotask(() => {
        if (open.some((d) => d.contains(document.activeElement))) return;
        const under = open.at(-1);
        if (under) under.focus({ preventScroll: true });
        else editorFocus?.();
      });
    },
  };
}
