import { describe, expect, it } from 'vitest';
import { isAppUrl, isSafeExternalUrl, rendererUrl } from '../../../src-main/app/urls';

const APP = 'app://tsuzuki';

describe('rendererUrl', () => {
  it('loads the dev server only when the app is not packaged', () => {
    const env = { ELECTRON_RENDERER_URL: 'http://localhost:5173/' };
    expect(rendererUrl(env, false)).toBe('http://localhost:5173/');
    expect(rendererUrl(env, true)).toBeUndefined();
    expect(rendererUrl({}, false)).toBeUndefined();
  });

  it('takes only an http(s) address on this machine', () => {
    for (const ok of ['http://127.0.0.1:5173', 'http://[::1]:5173/', 'https://localhost:5173/']) {
      expect(rendererUrl({ ELECTRON_RENDERER_URL: ok }, false), ok).toBeDefined();
    }
    for (const bad of ['https://example.com/', 'file:///tmp/index.html', 'javascript:alert(1)', 'http://localhost.example.com/', 'not a url']) {
      expect(rendererUrl({ ELECTRON_RENDERER_URL: bad }, false), bad).toBeUndefined();
    }
  });
});

describe('isAppUrl', () => {
  it("is the app's own origin, or the dev server's, compared whole", () => {
    expect(isAppUrl('app://tsuzuki/index.html', APP, undefined)).toBe(true);
    expect(isAppUrl('app://other/index.html', APP, undefined)).toBe(false);
    expect(isAppUrl('app://tsuzuki@evil/index.html', APP, undefined)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', APP, undefined)).toBe(false);
    expect(isAppUrl('http://localhost:5173/src/main.ts', APP, 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5173.example.com/', APP, 'http://localhost:5173')).toBe(false);
    expect(isAppUrl('http://localhost:51730/', APP, 'http://localhost:5173')).toBe(false);
    expect(isAppUrl('garbage', APP, 'http://localhost:5173')).toBe(false);
  });
});

describe('isSafeExternalUrl', () => {
  it('lets https: pages and mailto: addresses out to the system, nothing else', () => {
    expect(isSafeExternalUrl('https://huggingface.co/rinna/japanese-gpt-1b')).toBe(true);
    expect(isSafeExternalUrl('mailto:someone@example.com')).toBe(true);
    for (const bad of ['http://example.com/', 'file:///etc/passwd', 'smb://host/share', 'ms-settings:', 'vscode://file/x', 'javascript:alert(1)', 'data:text/html,x', '/relative', '']) {
      expect(isSafeExternalUrl(bad), bad).toBe(false);
    }
  });
});
