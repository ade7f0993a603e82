/**
 * Settings: sampling presets, shortcut bindings and UI preferences, stored in the database one section per key
 * and validated on every read. A stored value that no longer validates (hand-edited, written by an older version)
 * falls back to its default field by field, so a bad value never stops the app.
 */
import type { z } from 'zod';
import {
  DEFAULT_SETTINGS,
  engineSchema,
  hubSchema,
  samplingPresetSchema,
  samplingSchema,
  settingsSchema,
  shortcutsSchema,
  uiSchema,
  updatesSchema,
  activeSampling,
  type Settings,
} from '../contract/settings';
import { steeringSchema } from '../contract/document-aids';
import type { GenerationParams } from '../contract/generation-params';
import type { Store } from '../store/store';

type Section = keyof Settings;

function readSampling(stored: unknown): Settings['sampling'] {
  const whole = samplingSchema.safeParse(stored);
  if (whole.success) return whole.data;
  // Keep the presets that still validate; fall back to the defaults if none do.
  const raw = (stored ?? {}) as { activePresetId?: unknown; presets?: unknown };
  const presets = Array.isArray(raw.presets) ? raw.presets.flatMap((p) => { const r = samplingPresetSchema.safeParse(p); return r.success ? [r.data] : []; }) : [];
  const unique = presets.filter((p, i) => presets.findIndex((q) => q.id === p.id) === i).slice(0, 50);
  if (unique.length === 0) return DEFAULT_SETTINGS.sampling;
  const active = unique.find((p) => p.id === raw.activePresetId) ?? unique[0]!;
  return { activePresetId: active.id, presets: unique };
}

function readShortcuts(stored: unknown): Settings['shortcuts'] {
  const result: Settings['shortcuts'] = { ...DEFAULT_SETTINGS.shortcuts };
  if (stored && typeof stored === 'object' && !Array.isArray(stored)) {
    for (const [action, chord] of Object.entries(stored)) {
      if (shortcutsSchema.safeParse({ [action]: chord }).success) result[action] = chord as string;
    }
  }
  return result;
}

/** A section of plain fields: each stored field that still validates is kept, the others fall back to the default. */
function readFields<S extends z.ZodObject>(schema: S, defaults: z.infer<S>, stored: unknown): z.infer<S> {
  const source = stored && typeof stored === 'object' && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  const result = { ...defaults } as Record<string, unknown>;
  for (const [key, field] of Object.entries(schema.shape)) {
    const parsed = (field as z.ZodType).safeParse(source[key]);
    if (parsed.success && key in source) result[key] = parsed.data;
  }
  return result as z.infer<S>;
}

export class SettingsService {
  constructor(private readonly store: Store) {}

  get(): Settings {
    return this.store.run((s) => ({
      sampling: readSampling(s.settings.get('sampling')),
      shortcuts: readShortcuts(s.settings.get('shortcuts')),
      ui: readFields(uiSchema, DEFAULT_SETTINGS.ui, s.settings.get('ui')),
      engine: readFields(engineSchema, DEFAULT_SETTINGS.engine, s.settings.get('engine')),
      hub: readFields(hubSchema, DEFAULT_SETTINGS.hub, s.settings.get('hub')),
      updates: readFields(updatesSchema, DEFAULT_SETTINGS.updates, s.settings.get('updates')),
      steering: readFields(steeringSchema, DEFAULT_SETTINGS.steering, s.settings.get('steering')),
    }));
  }

  /** Replaces whole sections (validated by the caller's schema, and again here). */
  set(patch: Partial<Settings>): Settings {
    const valid = settingsSchema.partial().parse(patch);
    this.store.run((s) =>
      s.db.transaction(() => {
        for (const key of Object.keys(valid) as Section[]) s.settings.set(key, valid[key]);
      })(),
    );
    return this.get();
  }

  /** The parameters of the active sampling preset. */
  activeSampling(): GenerationParams {
    return activeSampling(this.get());
  }
}
