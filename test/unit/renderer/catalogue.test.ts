/** The message catalogue: Japanese and English are both complete, so no screen falls back to the other language. */
import { describe, expect, it } from 'vitest';
import { en } from '../../../src-renderer/i18n/en';
import { ja } from '../../../src-renderer/i18n/ja';
import { placeholders } from '../../../src-renderer/i18n/placeholders';

const catalogues = { ja, en } as Record<string, Record<string, string>>;

describe('message catalogue', () => {
  it('Japanese and English have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(ja).sort());
  });

  it('no message is empty or only spaces', () => {
    for (const [locale, messages] of Object.entries(catalogues)) {
      const empty = Object.entries(messages).filter(([, message]) => message.trim() === '').map(([key]) => key);
      expect(empty, locale).toEqual([]);
    }
  });

  it('each English message has the same {placeholders} as its Japanese one', () => {
    const differing = Object.keys(ja)
      .map((key) => ({ key, ja: placeholders(catalogues.ja![key]!), en: placeholders(catalogues.en![key] ?? '') }))
      .filter((p) => p.ja.join() !== p.en.join());
    expect(differing).toEqual([]);
  });

  it('reads placeholders the way t() fills them', () => {
    expect(placeholders('候補 {index}/{count} ({keys} で切り替え) {index}')).toEqual(['count', 'index', 'keys']);
    expect(placeholders('{ not one } {also-not} plain')).toEqual([]);
  });
});
