import { describe, expect, it } from 'vitest';
import { en } from '../../../src-renderer/i18n/en';
import { ja, type MessageKey } from '../../../src-renderer/i18n/ja';
import { ERROR_MESSAGES, errorText } from '../../../src-renderer/lib/error-text';
import { ERROR_CODES } from '../../../src-main/contract/errors';

const inJa = (key: MessageKey) => ja[key];
const inEn = (key: MessageKey) => en[key];
/** Latin words in a Japanese sentence, apart from names the writer sees as names. */
const NAMES = /Tsuzuki|tsuzuki serve|Hugging Face|rinna\/japanese-gpt-1b|CPU/g;
const latinWords = (text: string) => text.replace(NAMES, '').match(/[A-Za-z]{2,}/g) ?? [];

describe('error messages', () => {
  it('every error code has a message of its own in Japanese and in English that ends in what to do', () => {
    expect(Object.keys(ERROR_MESSAGES).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const key = ERROR_MESSAGES[code];
      expect(ja[key], code).toMatch(/[。]$/);
      expect(en[key], code).toMatch(/[.]$/);
      expect(ja[key], code).not.toBe(en[key]);
      expect(latinWords(ja[key]), `${code}: ${ja[key]}`).toEqual([]);
    }
  });

  it('the sentence is in the UI language only; the service message is the detail, apart from it', () => {
    const service = Object.assign(new Error('forward: 300 positions exceed the model\'s context of 256 tokens.'), { code: 'invalid_argument' });
    const japanese = errorText(service, inJa);
    expect(japanese).toEqual({ code: 'invalid_argument', message: ja['errors.invalid'], detail: service.message });
    expect(japanese.message).not.toContain('forward');
    expect(latinWords(japanese.message)).toEqual([]);
    expect(errorText(service, inEn).message).toBe(en['errors.invalid']);
  });

  it('an unknown code, a plain exception or a bare value reads as an unexpected error, its text kept as the detail', () => {
    expect(errorText({ code: 'made_up', message: 'x' }, inJa)).toEqual({ code: 'internal', message: ja['errors.internal'], detail: 'x' });
    expect(errorText(new TypeError('a is undefined'), inEn)).toEqual({ code: 'internal', message: en['errors.internal'], detail: 'a is undefined' });
    expect(errorText({ code: 'disconnected', message: ' ' }, inJa)).toEqual({ code: 'disconnected', message: ja['error.disconnected'], detail: null });
    expect(errorText('boom', inJa).detail).toBe('boom');
    expect(errorText(undefined, inJa).detail).toBeNull();
  });
});
