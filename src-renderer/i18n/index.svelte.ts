import { en } from './en';
import { ja, type MessageKey } from './ja';
import { PLACEHOLDER } from './placeholders';

export type { MessageKey };

export type Locale = 'ja' | 'en';
export const locales: { id: Locale; label: string }[] = [
  { id: 'ja', label: '日本語' },
  { id: 'en', label: 'English' },
];

const dictionaries: Record<Locale, Record<MessageKey, string>> = { ja, en };
const STORAGE_KEY = 'tsuzuki.locale';

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === 'en' || saved === 'ja' ? saved : 'ja';
}

let current = $state<Locale>(initialLocale());

export const i18n = {
  get locale(): Locale {
    return current;
  },
  set locale(value: Locale) {
    current = value;
    localStorage.setItem(STORAGE_KEY, value);
    document.documentElement.lang = value;
  },
};

/** The message for `key` in the current locale, with `{name}` placeholders filled; reactive in templates. */
export function t(key: MessageKey, values?: Record<string, string | number>): string {
  const message = dictionaries[current][key];
  return values ? message.replace(PLACEHOLDER, (_, name: string) => String(values[name] ?? `{${name}}`)) : message;
}

/** Whether a key built from data (a device's name, say) names a message. */
export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(ja, key);
}
