/**
 * UI preferences and shortcut bindings, kept in the app's settings (SQLite, through the main process) and applied
 * reactively. Saves are debounced. The last open document, and where the cursor was in each document, are
 * remembered per browser/profile in localStorage.
 */
import { api } from '../lib/api';
import { resolveBindings, defaultBindings, type Bindings } from '../editor/shortcuts';
import { i18n } from '../i18n/index.svelte';
import type { OutputOf } from '../../src-main/contract/contract';

type Settings = OutputOf<'settings.get'>;

export type Theme = 'system' | 'light' | 'dark';
type Font = 'mincho' | 'gothic';

const LAST_DOCUMENT_KEY = 'tsuzuki.lastDocumentId';
const CURSOR_KEY = (documentId: number) => `tsuzuki.cursor.${documentId}`;

class Prefs {
  font = $state<Font>('mincho');
  fontSize = $state(18);
  lineHeight = $state(1.8);
  theme = $state<Theme>('system');
  bindings = $state<Bindings>(defaultBindings);
  autosaveDelayMs = $state(800);
  /** Prefill where the writer pauses (the engine settings' read-ahead). */
  readAhead = $state(true);
  /** The token view: the proposal comes with each token's candidates. */
  tokenProbabilities = $state(false);
  /** Tint the text the model wrote in the editor. */
  showMachineText = $state(true);
  private ui: Record<string, unknown> = {};
  private timer: ReturnType<typeof setTimeout> | undefined;

  async load(): Promise<void> {
    const settings = await api.settings.get({});
    this.ui = settings.ui;
    this.font = settings.ui.fontFamily === 'gothic' || settings.ui.fontFamily === 'sans-serif' ? 'gothic' : 'mincho';
    this.fontSize = settings.ui.fontSize;
    this.lineHeight = settings.ui.lineHeight;
    this.theme = settings.ui.theme;
    this.autosaveDelayMs = settings.ui.autosaveDelayMs;
    this.showMachineText = settings.ui.showMachineText;
    this.readAhead = settings.engine.readAhead;
    this.tokenProbabilities = settings.ui.tokenProbabilities;
    this.bindings = resolveBindings(settings.shortcuts);
    i18n.locale = settings.ui.language;
  }

  get lastDocumentId(): number | null {
    const value = Number(localStorage.getItem(LAST_DOCUMENT_KEY));
    return Number.isInteger(value) && value > 0 ? value : null;
  }

  set lastDocumentId(id: number | null) {
    localStorage.setItem(LAST_DOCUMENT_KEY, String(id ?? ''));
  }

  /** Where the writer left the cursor in a document (an offset into its text), or null if never recorded. */
  cursorOf(documentId: number): number | null {
    const value = Number(localStorage.getItem(CURSOR_KEY(documentId)) ?? NaN);
    return Number.isInteger(value) && value >= 0 ? value : null;
  }

  rememberCursor(documentId: number, offset: number): void {
    localStorage.setItem(CURSOR_KEY(documentId), String(offset));
  }

  /** Rebinds one action; false (nothing changed) when the chord does not parse. */
  setBinding(action: keyof Bindings, chord: string): boolean {
    const next = resolveBindings({ ...this.bindings, [action]: chord });
    if (next[action] !== chord) return false;
    this.bindings = next;
    void api.settings.get({}).then((settings) => api.settings.set({ shortcuts: { ...settings.shortcuts, [action]: chord } }));
    return true;
  }

  /** Saves the UI section: at once for a discrete choice (language, theme), shortly after the last change otherwise. */
  save(immediate = false): void {
    const ui = {
      ...this.ui,
      fontFamily: this.font,
      fontSize: Math.round(this.fontSize),
      lineHeight: this.lineHeight,
      theme: this.theme,
      language: i18n.locale,
      tokenProbabilities: this.tokenProbabilities,
      showMachineText: this.showMachineText,
    };
    clearTimeout(this.timer);
    const write = () => void api.settings.set({ ui: ui as Settings['ui'] });
    if (immediate) write();
    else this.timer = setTimeout(write, 400);
  }
}

export const prefs = new Prefs();
