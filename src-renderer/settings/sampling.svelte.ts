/** The sampling presets (stored in the settings) and the one in use; the model card's preset is the default. */
import { api } from '../lib/api';
import type { GenerationParams } from '../../src-main/contract/generation-params';
import type { OutputOf } from '../../src-main/contract/contract';

type Settings = OutputOf<'settings.get'>;
type SamplingSettings = Settings['sampling'];

const STOP_KEY = 'tsuzuki.stopAtSentenceEnd';

class Sampling {
  settings = $state<SamplingSettings | null>(null);
  /** Stop at the end of a sentence (。」！？); a per-profile toggle rather than part of a preset. */
  stopAtSentenceEnd = $state(localStorage.getItem(STOP_KEY) === '1');

  get active() {
    const s = this.settings;
    return s ? (s.presets.find((p) => p.id === s.activePresetId) ?? s.presets[0]!) : null;
  }

  async load(): Promise<void> {
    this.settings = (await api.settings.get({})).sampling;
  }

  private async write(next: SamplingSettings): Promise<void> {
    this.settings = (await api.settings.set({ sampling: next })).sampling;
  }

  choose(id: string): Promise<void> {
    if (!this.settings) return Promise.resolve();
    return this.write({ ...this.settings, activePresetId: id });
  }

  update(params: GenerationParams): Promise<void> {
    const s = this.settings;
    if (!s) return Promise.resolve();
    return this.write({ ...s, presets: s.presets.map((p) => (p.id === s.activePresetId ? { ...p, params } : p)) });
  }

  saveAs(name: string): Promise<void> {
    const s = this.settings;
    const active = this.active;
    if (!s || !active) return Promise.resolve();
    const id = `user-${Date.now().toString(36)}`;
    return this.write({ activePresetId: id, presets: [...s.presets, { id, name, params: { ...active.params } }] });
  }

  persistStop(): void {
    localStorage.setItem(STOP_KEY, this.stopAtSentenceEnd ? '1' : '0');
  }
}

export const sampling = new Sampling();
