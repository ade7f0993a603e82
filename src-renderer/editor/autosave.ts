/**
 * Autosave: at most one second after the last keystroke, and at once on blur and before the window closes.
 * Never while an IME composition is in progress (the text is not final yet): it waits for the composition to end.
 * Saves are serialized, so an older text never overwrites a newer one.
 */
export type SaveState = 'saved' | 'pending' | 'saving' | 'error';

export class Autosaver {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: () => Promise<void>,
    private readonly isComposing: () => boolean,
    private readonly onState: (state: SaveState, error?: unknown) => void,
    private readonly delayMs = 800,
  ) {}

  /** The text changed. */
  touch(): void {
    this.dirty = true;
    this.onState('pending');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Saves now if anything is unsaved (unless composing: then the composition's end will flush). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.dirty) return this.running;
    if (this.isComposing()) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      return this.running;
    }
    this.dirty = false;
    this.running = this.running.then(async () => {
      this.onState('saving');
      try {
        await this.save();
        this.onState(this.dirty ? 'pending' : 'saved');
      } catch (error) {
        this.dirty = true;
        this.onState('error', error);
      }
    });
    return this.running;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
