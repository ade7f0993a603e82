/**
 * Keyboard shortcuts as chords like "Mod+Enter" or "Alt+ArrowUp" (Mod is ⌘ on macOS, Ctrl elsewhere); several
 * chords for one action are separated by commas ("Tab, Enter"). They come from the settings, so they can be rebound.
 * IME safety lives here too: no shortcut fires while a composition is in progress, nor on the key that commits one.
 */

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

interface Chord {
  key: string;
  ctrl: boolean;
  meta: boolean;
  alt: boolean;
  shift: boolean;
}

function parseChord(chord: string, mac: boolean): Chord {
  const parts = chord.trim().split(/\+(?!$)/);
  const key = parts.pop() ?? '';
  const parsed: Chord = { key, ctrl: false, meta: false, alt: false, shift: false };
  for (const modifier of parts) {
    if (modifier === 'Mod') parsed[mac ? 'meta' : 'ctrl'] = true;
    else if (modifier === 'Ctrl' || modifier === 'Control') parsed.ctrl = true;
    else if (modifier === 'Cmd' || modifier === 'Meta') parsed.meta = true;
    else if (modifier === 'Alt' || modifier === 'Option') parsed.alt = true;
    else if (modifier === 'Shift') parsed.shift = true;
    else throw new Error(`Unknown modifier "${modifier}" in shortcut "${chord}"`);
  }
  return parsed;
}

function chords(binding: string): string[] {
  return binding.split(',').map((c) => c.trim()).filter(Boolean);
}

/** True while an IME composition is in progress, or for the keydown that starts or commits one (keyCode 229). */
export function isImeEvent(event: KeyboardEvent, composing = false): boolean {
  return composing || event.isComposing || event.keyCode === 229 || event.key === 'Process';
}

export function matchesShortcut(event: KeyboardEvent, binding: string, mac = isMac): boolean {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  return chords(binding).some((chord) => {
    const c = parseChord(chord, mac);
    const wanted = c.key.length === 1 ? c.key.toLowerCase() : c.key;
    return key === wanted && event.ctrlKey === c.ctrl && event.metaKey === c.meta && event.altKey === c.alt && event.shiftKey === c.shift;
  });
}

/** Shows a binding the way the platform writes it: ⌘↩ on macOS, Ctrl+Enter elsewhere. */
export function formatShortcut(binding: string, mac = isMac): string {
  return chords(binding)
    .map((chord) => {
      const c = parseChord(chord, mac);
      const names: Record<string, string> = mac
        ? { Enter: '↩', ArrowUp: '↑', ArrowDown: '↓', ArrowLeft: '←', ArrowRight: '→', Escape: 'Esc', Tab: '⇥' }
        : { ArrowUp: '↑', ArrowDown: '↓', ArrowLeft: '←', ArrowRight: '→', Escape: 'Esc' };
      const key = names[c.key] ?? (c.key.length === 1 ? c.key.toUpperCase() : c.key);
      if (mac) return `${c.ctrl ? '⌃' : ''}${c.alt ? '⌥' : ''}${c.shift ? '⇧' : ''}${c.meta ? '⌘' : ''}${key}`;
      return [c.ctrl && 'Ctrl', c.meta && 'Meta', c.alt && 'Alt', c.shift && 'Shift', key].filter(Boolean).join('+');
    })
    .join(' / ');
}

/** The editor's actions and their default chords (the settings may override any of them). */
export const defaultBindings = {
  'generation.start': 'Mod+Enter',
  'generation.accept': 'Tab, Enter',
  'generation.reject': 'Escape',
  'generation.regenerate': 'Ctrl+R',
  'generation.regenerateSameSeed': 'Ctrl+Shift+R',
  'generation.previous': 'Alt+ArrowUp',
  'generation.next': 'Alt+ArrowDown',
  /** With the token view on: the candidates of the proposal's next or previous token. */
  'tokens.next': 'Alt+ArrowRight',
  'tokens.previous': 'Alt+ArrowLeft',
};
export type Bindings = typeof defaultBindings;

/** Stored bindings over the defaults; a chord that does not parse keeps the default. */
export function resolveBindings(stored: Record<string, string>, mac = isMac): Bindings {
  const result = { ...defaultBindings };
  for (const action of Object.keys(result) as (keyof Bindings)[]) {
    const chord = stored[action];
    if (!chord) continue;
    try {
      chords(chord).forEach((c) => parseChord(c, mac));
      result[action] = chord;
    } catch {
      // keep the default
    }
  }
  return result;
}
