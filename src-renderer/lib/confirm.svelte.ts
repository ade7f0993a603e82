/**
 * A question the writer answers before something that cannot be undone, asked in the page (ConfirmDialog.svelte):
 * a native confirm() labels its buttons in the browser's language, not the UI's.
 */
export interface Question {
  message: string;
  /** The button that goes ahead, named for what it does ("完全に削除"). */
  action: string;
  resolve: (yes: boolean) => void;
}

let current = $state.raw<Question | null>(null);

export const confirmation = {
  get current(): Question | null {
    return current;
  },
};

/** Resolves true when the writer chooses `action`, false on cancel, Escape or a newer question. */
export function ask(message: string, action: string): Promise<boolean> {
  current?.resolve(false);
  return new Promise((resolve) => {
    current = { message, action, resolve };
  });
}

/** Answers `question` if it is still the one asked (an event of a dialog already answered changes nothing). */
export function answer(question: Question, yes: boolean): void {
  if (current !== question) return;
  current = null;
  question.resolve(yes);
}
