/**
 * The settings as the contract speaks them: sampling presets, shortcut bindings, UI preferences, the engine's
 * device, the hub and updates, with their schemas and defaults. Reading and writing them is services/settings.ts.
 */
import { z } from 'zod';
import { steeringSchema } from './document-aids';
import { DEFAULT_GENERATION_PARAMS, type GenerationParams } from './generation-params';
import { generationParamsSchema } from './generation-params-schema';

const wellFormed = (max: number) => z.string().min(1).max(max).refine((s) => !/[\ud800-\udfff]/u.test(s), 'contains a lone surrogate (broken UTF-16)');

export const samplingPresetSchema = z.object({ id: wellFormed(64), name: wellFormed(100), params: generationParamsSchema });

export const samplingSchema = z
  .object({ activePresetId: z.string().max(64), presets: z.array(samplingPresetSchema).min(1).max(50) })
  .refine((s) => s.presets.some((p) => p.id === s.activePresetId), 'activePresetId must name one of the presets')
  .refine((s) => new Set(s.presets.map((p) => p.id)).size === s.presets.length, 'preset ids must be unique');

/** Action name → key chord (e.g. `Mod+Enter`); Mod is Cmd on macOS, Ctrl elsewhere. */
export const shortcutsSchema = z.record(wellFormed(64), wellFormed(64));

export const uiSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']),
  language: z.enum(['ja', 'en']),
  fontFamily: wellFormed(200),
  fontSize: z.number().int().min(8).max(72),
  lineHeight: z.number().min(1).max(3),
  /** For new documents; each document keeps its own. */
  writingMode: z.enum(['horizontal', 'vertical']),
  /** Autosave after this long without a keystroke (≤ 1 s, so a crash loses at most a second of typing). */
  autosaveDelayMs: z.number().int().min(100).max(1000),
  /** The proposal shows its tokens, each with its candidates and their probabilities (表示 › トークン確率). */
  tokenProbabilities: z.boolean(),
  /** The editor tints the text the model wrote (表示 › AI の文に色). */
  showMachineText: z.boolean(),
});

export const engineSchema = z.object({
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

export const hubSchema = z.object({
  /** A Hugging Face mirror; null: HF_ENDPOINT or https://huggingface.co. */
  endpoint: z.string().url().max(500).refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL').nullable(),
  /** For gated or private repos; null: HF_TOKEN or the token `huggingface-cli login` saved. */
  token: z.string().min(1).max(500).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').nullable(),
});

export const updatesSchema = z.object({ enabled: z.boolean() });

export const settingsSchema = z.object({
  sampling: samplingSchema,
  shortcuts: shortcutsSchema,
  ui: uiSchema,
  engine: engineSchema,
  hub: hubSchema,
  updates: updatesSchema,
  /** Banned phrases and phrase biases for every document (each document adds its own). */
  steering: steeringSchema,
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
    'generation.regenerateSameSeed': 'Ctrl+Shift+R',
    'document.new': 'Mod+N',
    'history.open': 'Mod+H',
  },
  engine: { device: 'auto', threads: null, readAhead: true },
  hub: { endpoint: null, token: null },
  updates: { enabled: true },
  steering: { bannedPhrases: [], phraseBiases: [] },
  ui: {
    theme: 'system',
    language: 'ja',
    fontFamily: 'serif',
    fontSize: 18,
    lineHeight: 1.8,
    writingMode: 'horizontal',
    autosaveDelayMs: 800,
    tokenProbabilities: false,
    showMachineText: true,
  },
};

/** The parameters of the settings' active sampling preset. */
export function activeSampling({ sampling }: Settings): GenerationParams {
  return (sampling.presets.find((p) => p.id === sampling.activePresetId) ?? sampling.presets[0]!).params;
}
