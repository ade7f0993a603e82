/**
 * Settings: sampling presets, shortcut bindings and UI preferences, stored in the database one section per key
 * and validated on every read. A stored value that no longer validates (hand-edited, written by an older version)
 * falls back to its default field by field, so a bad value never stops the app.
 */
import { z } from 'zod';
import { DEFAULT_GENERATION_PARAMS, type GenerationParams } from '../contract/generation-params';
import { generationParamsSchema } from '../contract/generation-params-schema';
import type { Store } from '../store/store';

const wellFormed = (max: number) => z.string().min(1).max(max).refine((s) => !/[\ud800-\udfff]/u.test(s), 'contains a lone surrogate (broken UTF-16)');

const samplingPresetSchema = z.object({ id: wellFormed(64), name: wellFormed(100), params: generationParamsSchema });

const samplingSchema = z
  .object({ activePresetId: z.string().max(64), presets: z.array(samplingPresetSchema).min(1).max(50) })
  .refine((s) => s.presets.some((p) => p.id === s.activePresetId), 'activePresetId must name one of the presets')
  .refine((s) => new Set(s.presets.map((p) => p.id)).size === s.presets.length, 'preset ids must be unique');

/** Action name → key chord (e.g. `Mod+Enter`); Mod is Cmd on macOS, Ctrl elsewhere. */
const shortcutsSchema = z.record(wellFormed(64), wellFormed(64));

const uiSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']),
  language: z.enum(['ja', 'en']),
  fontFamily: wellFormed(200),
  fontSize: z.number().int().min(8).max(72),
  lineHeight: z.number().min(1).max(3),
  /** For new documents; each document keeps its own. */
  writingMode: z.enum(['horizontal', 'vertical']),
  /** Autosave after this long without a keystroke (≤ 1 s, so a crash loses at most a second of typing). */
  autosaveDelayMs: z.number().int().min(100).max(1000),
});

const engineSchema = z.object({
  /** Where the model runs; `auto` tries this platform's GPU and falls back to the CPU, saying why. */
  device: z.enum(['auto', 'cpu', 'cuda', 'dml', 'webgpu', 'coreml']),
  /** CPU threads; null: every core up to 8. */
  threads: z.number().int().min(1).max(64).nullable(),
  /**
   * Prefill the context where the writer pauses, so a continuation starts at once. On a CPU a cold context costs
   * seconds of full load, which a writer on battery may rather not spend.
   */
  readAhead: z.boolean(),
});

const hubSchema = z.object({
  /** A Hugging Face mirror; null: HF_ENDPOINT or https://huggingface.co. */
  endpoint: z.string().url().max(500).refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL').nullable(),
  /** For gated or private repos; null: HF_TOKEN or the token `huggingface-cli login` saved. */
  token: z.string().min(1).max(500).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').nullable(),
});

const updatesSchema = z.object({ enabled: z.boolean() });

export const settingsSchema = z.object({
  sampling: samplingSchema,
  shortcuts: shortcutsSchema,
  ui: uiSchema,
  engine: engineSchema,
  hub: hubSchema,
  updates: updatesSchema,
});
export type Settings = z.infer<typeof settingsSchema>;

/**
 * The default preset is the model card's (rinna/japanese-gpt-1b): sampling with top_k 500, top_p 0.95,
 * temperature 1.0 and no repetition penalty (1.0, generate()'s default — the card sets none). 60 new tokens is about
 * two sentences of Japanese, short enough to read at a glance. Two more presets for steadier or exact prose.
 */
export const DEFAULT_SETTINGS: Settings = {
  sampling: {
    activePresetId: 'model-card',
    presets: [
      {
        id: 'model-card',
        name: '標準（モデルカード）',
        params: DEFAULT_GENERATION_PARAMS,
      },
      {
        id: 'steady',
        name: '控えめ',
        params: { doSample: true, temperature: 0.8, topK: 40, topP: 0.9, repetitionPenalty: 1.1, maxNewTokens: 60, minNewTokens: 0, numAlternatives: 1, seed: null },
      },
      {
        id: 'greedy',
        name: '決定的（貪欲法）',
        params: { doSample: false, temperature: 1.0, topK: 0, topP: 1.0, repetitionPenalty: 1.1, maxNewTokens: 60, minNewTokens: 0, numAlternatives: 1, seed: null },
      },
    ],
  },
  shortcuts: {
    'generation.start': 'Mod+Enter',
    'generation.accept': 'Tab, Enter',
    'generation.reject': 'Escape',
    'generation.next': 'Alt+ArrowDown',
    'generation.previous': 'Alt+ArrowUp',
    'generation.regenerate': 'Ctrl+R',
    'document.new': 'Mod+N',
    'history.open': 'Mod+H',
  },
  engine: { device: 'auto', threads: null, readAhead: true },
  hub: { endpoint: null, token: null },
  updates: { enabled: true },
  ui: {
    theme: 'system',
    language: 'ja',
    fontFamily: 'serif',
    fontSize: 18,
    lineHeight: 1.8,
    writingMode: 'horizontal',
    autosaveDelayMs: 800,
  },
};

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

/** The parameters of the settings' active sampling preset. */
export function activeSampling({ sampling }: Settings): GenerationParams {
  return (sampling.presets.find((p) => p.id === sampling.activePresetId) ?? sampling.presets[0]!).params;
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
