/**
 * How a continuation came to be, as labelled rows for the history's detail: the sampling settings, then how it ran
 * (device, precision, token counts, timings). Every known row is shown, with "—" where an older or imported entry
 * lacks the value; keys this version does not know are shown under their own name, never dropped.
 */
import type { MessageKey } from '../i18n/ja';

type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export interface GenerationFactsInput {
  params: Record<string, unknown>;
  seed: number | null;
  precision: string;
  device: string;
  timings: Record<string, number>;
}

interface Fact {
  /** The stored key (`params.topK`, `timings.decodeMs`…): stable for tests and Svelte's keyed each. */
  key: string;
  label: string;
  value: string;
}

export interface FactGroup {
  heading: string;
  facts: Fact[];
}

type Kind = 'method' | 'integer' | 'decimal' | 'tokens' | 'ms' | 'rate' | 'yesNo' | 'strings' | 'biases' | 'seed' | 'device' | 'text';

/** An unknown value longer than this is cut: a detail row is not the place for a whole imported document. */
const MAX_SHOWN = 200;
const DEVICES = ['cpu', 'cuda', 'dml', 'webgpu', 'coreml'] as const;

const SAMPLING: [key: string, label: MessageKey, kind: Kind][] = [
  ['doSample', 'history.fact.method', 'method'],
  ['topK', 'history.fact.topK', 'integer'],
  ['topP', 'history.fact.topP', 'decimal'],
  ['temperature', 'sampling.temperature', 'decimal'],
  ['repetitionPenalty', 'sampling.repetitionPenalty', 'decimal'],
  ['maxNewTokens', 'history.fact.length', 'tokens'],
  ['minNewTokens', 'history.fact.minLength', 'tokens'],
  ['numAlternatives', 'sampling.alternatives', 'integer'],
  ['stopAtSentenceEnd', 'history.fact.stopAtSentenceEnd', 'yesNo'],
  ['stopStrings', 'history.fact.stopStrings', 'strings'],
  ['allowSpecialTokens', 'history.fact.allowSpecialTokens', 'yesNo'],
];
/** The banned phrases and biases, stored together under `steering`. */
const STEERING: [key: string, label: MessageKey, kind: Kind][] = [
  ['bannedPhrases', 'history.fact.bannedPhrases', 'strings'],
  ['phraseBiases', 'history.fact.phraseBiases', 'biases'],
];
/** Token counts and timings, in the order the work happens; promptTokens and memoTokens were stored with the params. */
const RUN: [key: string, label: MessageKey, kind: Kind][] = [
  ['promptTokens', 'history.fact.promptTokens', 'tokens'],
  ['memoTokens', 'history.fact.memoTokens', 'tokens'],
  ['reusedTokens', 'history.fact.reusedTokens', 'tokens'],
  ['prefillTokens', 'history.fact.prefillTokens', 'tokens'],
  ['newTokens', 'history.fact.newTokens', 'tokens'],
  ['decodeSteps', 'history.fact.decodeSteps', 'integer'],
  ['loadMs', 'history.fact.loadMs', 'ms'],
  ['prefillMs', 'history.fact.prefillMs', 'ms'],
  ['firstTokenMs', 'history.fact.firstTokenMs', 'ms'],
  ['decodeMs', 'history.fact.decodeMs', 'ms'],
  ['totalMs', 'history.fact.totalMs', 'ms'],
  ['tokensPerSecond', 'history.fact.tokensPerSecond', 'rate'],
];

export function generationFacts(g: GenerationFactsInput, locale: string, t: Translate): FactGroup[] {
  const number = (value: number, maximumFractionDigits: number, useGrouping = true) =>
    new Intl.NumberFormat(locale, { maximumFractionDigits, useGrouping }).format(value);
  const missing = t('history.value.missing');

  /** Any JSON value, as text: how unknown keys and values of an unexpected type are shown. */
  const plain = (value: unknown): string => {
    if (value === undefined || value === null) return missing;
    if (typeof value === 'number') return Number.isFinite(value) ? number(value, 3) : String(value);
    if (typeof value === 'boolean') return t(value ? 'history.value.yes' : 'history.value.no');
    if (typeof value === 'string') return value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    if (Array.isArray(value)) return value.length ? new Intl.ListFormat(locale, { type: 'unit' }).format(value.map(plain)) : t('history.value.none');
    const text = JSON.stringify(value);
    return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  };

  const format = (value: unknown, kind: Kind): string => {
    const finite = typeof value === 'number' && Number.isFinite(value);
    switch (kind) {
      case 'method':
        return typeof value === 'boolean' ? t(value ? 'history.value.sampling' : 'history.value.greedy') : plain(value);
      case 'integer':
        return finite ? number(value, 0) : plain(value);
      case 'seed':
        // A seed is a name for a run, not a quantity: no thousands separators.
        return finite ? number(value, 0, false) : plain(value);
      case 'decimal':
        return finite ? number(value, 3) : plain(value);
      case 'tokens':
        return finite ? t('history.value.tokens', { value: number(value, 0) }) : plain(value);
      case 'ms':
        return finite ? t('history.value.ms', { value: number(value, value < 10 ? 1 : 0) }) : plain(value);
      case 'rate':
        return finite ? t('generation.speed', { speed: number(value, value < 100 ? 1 : 0) }) : plain(value);
      case 'yesNo':
        return plain(value);
      case 'strings':
        return Array.isArray(value) && value.every((s) => typeof s === 'string')
          ? value.length
            ? value.map((s) => t('history.value.quoted', { value: plain(s) })).join(' ')
            : t('history.value.none')
          : plain(value);
      case 'biases':
        return Array.isArray(value) && value.every((b) => typeof b?.phrase === 'string' && typeof b?.bias === 'number')
          ? value.length
            ? value.map((b: { phrase: string; bias: number }) => t('history.value.bias', { phrase: plain(b.phrase), bias: new Intl.NumberFormat(locale, { signDisplay: 'always', maximumFractionDigits: 3 }).format(b.bias) })).join(' ')
            : t('history.value.none')
          : plain(value);
      case 'device':
        return (DEVICES as readonly unknown[]).includes(value) ? t(`engine.device.${value as (typeof DEVICES)[number]}`) : plain(value);
      case 'text':
        return plain(value);
    }
  };

  const fact = (key: string, label: string, value: unknown, kind: Kind): Fact => ({ key, label, value: format(value, kind) });
  const has = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
  const runValue = (key: string) => (has(g.timings, key) ? g.timings[key] : g.params[key]);
  const runKeys = new Set(RUN.map(([key]) => key));
  const samplingKeys = new Set([...SAMPLING.map(([key]) => key), 'seed', 'steering']);
  // Entries made before steering existed have none: shown as "—" like any missing value.
  const steering = typeof g.params.steering === 'object' && g.params.steering !== null ? (g.params.steering as Record<string, unknown>) : {};

  const sampling = [
    ...SAMPLING.map(([key, label, kind]) => fact(`params.${key}`, t(label), g.params[key], kind)),
    ...STEERING.map(([key, label, kind]) => fact(`params.steering.${key}`, t(label), steering[key], kind)),
    // The record's seed is null when the continuation was not sampled (the seed then played no part).
    fact('seed', t('sampling.seed'), g.seed, 'seed'),
    ...Object.keys(g.params)
      .filter((key) => !samplingKeys.has(key) && !runKeys.has(key))
      .map((key) => fact(`params.${key}`, key, g.params[key], 'text')),
  ];
  const run = [
    fact('device', t('engine.device'), g.device, 'device'),
    fact('precision', t('models.precision'), g.precision, 'text'),
    ...RUN.map(([key, label, kind]) => fact(`timings.${key}`, t(label), runValue(key), kind)),
    ...Object.keys(g.timings)
      .filter((key) => !runKeys.has(key))
      .map((key) => fact(`timings.${key}`, key, g.timings[key], 'text')),
  ];
  return [
    { heading: t('sampling.heading'), facts: sampling },
    { heading: t('history.facts.run'), facts: run },
  ];
}
