/** The message catalogue: Japanese and English are both complete, so no screen falls back to the other language. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from '../../../src-renderer/i18n/en';
import { ja } from '../../../src-renderer/i18n/ja';
import { placeholders } from '../../../src-renderer/i18n/placeholders';

type Catalogue = Record<string, string>;

/** The renderer's code and templates, the catalogue itself left out. */
function rendererSources(dir = join(import.meta.dirname, '../../../src-renderer')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'i18n' ? [] : rendererSources(path);
    return /\.(ts|svelte)$/.test(entry.name) ? [readFileSync(path, 'utf8')] : [];
  });
}

/** What is wrong between two catalogues, key by key: one line per problem, empty when they agree. */
function problems(catalogues: Record<string, Catalogue>): string[] {
  const keys = new Set(Object.values(catalogues).flatMap((c) => Object.keys(c)));
  const found: string[] = [];
  for (const key of [...keys].sort()) {
    const expected = Object.values(catalogues).find((c) => key in c)!;
    for (const [locale, messages] of Object.entries(catalogues)) {
      const message = messages[key];
      if (message === undefined) found.push(`${key}: missing in ${locale}`);
      else if (message.trim() === '') found.push(`${key}: empty in ${locale}`);
      else if (placeholders(message).join() !== placeholders(expected[key]!).join()) found.push(`${key}: placeholders in ${locale} are {${placeholders(message).join('}{')}}`);
    }
  }
  return found;
}

describe('message catalogue', () => {
  it('Japanese and English have the same keys, none empty, each with the same {placeholders}', () => {
    expect(Object.keys(ja).length).toBeGreaterThan(100);
    expect(problems({ ja, en })).toEqual([]);
  });

  it('the check names a missing key, an empty message and a changed placeholder', () => {
    const source = { 'a.one': '{n} 件', 'a.two': 'はい', 'a.three': '{x}と{y}' };
    const translation = { 'a.one': '{count} items', 'a.three': ' ', 'a.four': 'extra' };
    expect(problems({ ja: source, en: translation })).toEqual([
      'a.four: missing in ja',
      'a.one: placeholders in en are {count}',
      'a.three: empty in en',
      'a.two: missing in en',
    ]);
  });

  it('every message is used by the renderer: by its key, or by a key built from a prefix (`status.${status}`)', () => {
    const sources = rendererSources().join('\n');
    const quoted = new Set(Array.from(sources.matchAll(/['"`]([\w.]+)['"`]/g), (m) => m[1]));
    const prefixes = Array.from(sources.matchAll(/`([\w.]+\.)\$\{/g), (m) => m[1]!);
    const unused = Object.keys(ja).filter((key) => !quoted.has(key) && !prefixes.some((prefix) => key.startsWith(prefix)));
    expect(unused).toEqual([]);
  });

  it('reads placeholders the way t() fills them', () => {
    expect(placeholders('候補 {index}/{count} ({keys} で切り替え) {index}')).toEqual(['count', 'index', 'keys']);
    expect(placeholders('{ not one } {also-not} plain')).toEqual([]);
  });
});
