import { describe, expect, it } from 'vitest';
import { generationFacts, type GenerationFactsInput } from '../../../src-renderer/history/generation-facts';
import { en } from '../../../src-renderer/i18n/en';
import { ja, type MessageKey } from '../../../src-renderer/i18n/ja';

const translate = (dictionary: Record<MessageKey, string>) => (key: MessageKey, values?: Record<string, string | number>) =>
  values ? dictionary[key].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name])) : dictionary[key];

/** label → value, per group heading. */
const table = (input: GenerationFactsInput, locale: 'ja' | 'en') =>
  Object.fromEntries(generationFacts(input, locale, translate(locale === 'ja' ? ja : en)).map((g) => [g.heading, Object.fromEntries(g.facts.map((f) => [f.label, f.value]))]));

/** As the generation service stores an entry today. */
const stored: GenerationFactsInput = {
  params: {
    doSample: true, temperature: 1, topK: 500, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 60, minNewTokens: 0, numAlternatives: 2,
    seed: 1234, stopAtSentenceEnd: true, stopStrings: ['。', '」'], memoTokens: 12, promptTokens: 345,
    steering: { bannedPhrases: ['猫'], phraseBiases: [{ phrase: '雪', bias: 2.5 }, { phrase: '雨', bias: -1 }] }, allowSpecialTokens: false,
  },
  seed: 1234,
  precision: 'int4',
  device: 'cpu',
  timings: {
    promptTokens: 345, reusedTokens: 300, prefillTokens: 45, prefillMs: 123.456, firstTokenMs: 7.25, decodeMs: 2345.6, decodeSteps: 60,
    newTokens: 120, tokensPerSecond: 51.1617, totalMs: 2480.2, loadMs: 1510.4,
  },
};

describe('the history detail’s table of how a continuation came to be', () => {
  it('labels every parameter and timing in Japanese, with numbers formatted and units in words', () => {
    expect(table(stored, 'ja')).toEqual({
      生成の設定: {
        方式: 'サンプリング', 'top-k': '500', 'top-p': '0.95', 温度: '1', 繰り返しペナルティ: '1.1', 長さ: '60 トークン', 最短の長さ: '0 トークン',
        候補の数: '2', 文の終わりで止める: 'はい', 停止文字列: '「。」 「」」', 特殊トークンを許す: 'いいえ', 禁止ワード: '「猫」',
        バイアス: '「雪」+2.5 「雨」-1', シード: '1234',
      },
      実行の記録: {
        デバイス: 'CPU', 精度: 'int4', 文脈: '345 トークン', うちメモ: '12 トークン', うち計算済み: '300 トークン', 計算した文脈: '45 トークン',
        生成した長さ: '120 トークン', 生成の手順数: '60', モデルの読み込み: '1,510 ミリ秒', 文脈の計算: '123 ミリ秒', 最初のトークンまで: '7.3 ミリ秒',
        生成: '2,346 ミリ秒', 合計: '2,480 ミリ秒', 速度: '51.2 トークン/秒',
      },
    });
  });

  it('and in English', () => {
    const { 'Generation settings': sampling, 'How it ran': run } = table(stored, 'en');
    expect(sampling).toMatchObject({ Method: 'Sampling', 'Top-k': '500', 'Top-p': '0.95', Temperature: '1', Length: '60 tokens', Seed: '1234', 'Stop strings': '“。” “」”', 'Banned words': '“猫”', Biases: '“雪” +2.5 “雨” -1' });
    expect(run).toMatchObject({ Precision: 'int4', 'Model load': '1,510 ms', 'Until the first token': '7.3 ms', Speed: '51.2 tokens/s' });
  });

  it('shows an older entry stored with fewer fields: every row is there, "—" where the value is missing', () => {
    const old = table({ params: { topK: 40 }, seed: null, precision: 'fp32', device: 'webgpu', timings: {} }, 'ja');
    expect(old['生成の設定']).toMatchObject({ 'top-k': '40', 'top-p': '—', 温度: '—', 長さ: '—', シード: '—', 方式: '—' });
    expect(old['実行の記録']).toMatchObject({ デバイス: 'WebGPU', 精度: 'fp32', モデルの読み込み: '—', 速度: '—', 文脈: '—' });
    expect(Object.values(old['実行の記録']!).filter((v) => v === '—')).toHaveLength(12);
  });

  it('keeps keys it does not know under their own names, and shows values of an unexpected type as text', () => {
    const facts = table({
      params: { topK: 'many', typicalP: 0.5, schedule: { warmup: 3 }, greedy: false, longText: 'あ'.repeat(1000) },
      seed: 7,
      precision: 'q4f16',
      device: 'npu',
      timings: { queueMs: 12.5 },
    }, 'en');
    expect(facts['Generation settings']).toMatchObject({ 'Top-k': 'many', typicalP: '0.5', schedule: '{"warmup":3}', greedy: 'No', Seed: '7' });
    expect(facts['Generation settings']!.longText).toBe(`${'あ'.repeat(200)}…`);
    expect(facts['How it ran']).toMatchObject({ Device: 'npu', Precision: 'q4f16', queueMs: '12.5' });
  });
});
