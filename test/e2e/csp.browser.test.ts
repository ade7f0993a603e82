/**
 * The renderer's Content-Security-Policy allows no inline styles: everything the app styles at run time (font size,
 * line height, vertical writing, the proposal) goes through the CSSOM, which CSP does not govern, so a `<style>`
 * element or a `style` attribute that model output or a pasted page smuggled in is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEditor, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
beforeAll(async () => {
  editor = await openEditor();
  await editor.page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { violations: string[] }).violations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.sample}`));
  });
});
afterAll(async () => {
  await editor?.close();
});

const violations = () => editor.page.evaluate(() => (window as unknown as { violations: string[] }).violations);

describe('style-src without unsafe-inline', () => {
  it('the server sends it so', async () => {
    const response = await fetch(editor.page.url());
    const styleSrc = /style-src [^;]*/.exec(response.headers.get('content-security-policy') ?? '')?.[0];
    expect(styleSrc).toBe("style-src 'self'");
  });

  it('the app works under it: continuing, vertical writing, the preview and the panels raise no violation', async () => {
    const { page } = editor;
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は猫である。名前はまだ無い。');
    await page.keyboard.press(`${process.platform === 'darwin' ? 'Meta' : 'Control'}+Enter`);
    await page.getByTestId('proposal').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('toggle-vertical').click();
    await page.getByTestId('toggle-preview').click();
    for (const panel of ['settings', 'history']) {
      await page.getByTestId(`toggle-${panel}`).click();
      await page.getByTestId(`toggle-${panel}`).click();
    }
    const editorStyle = await page.getByTestId('editor').evaluate((el) => ({
      fontSize: getComputedStyle(el).getPropertyValue('--editor-font-size'),
      writingMode: getComputedStyle(el).writingMode,
    }));
    expect(editorStyle).toEqual({ fontSize: expect.stringMatching(/^\d+px$/), writingMode: 'vertical-rl' });
    expect(await violations()).toEqual([]);
  });

  it('refuses a smuggled <style> element and style attribute', async () => {
    const applied = await editor.page.evaluate(() => {
      const probe = document.createElement('div');
      probe.id = 'csp-probe';
      document.body.append(probe);
      const sheet = document.createElement('style');
      sheet.textContent = '#csp-probe { width: 123px; }';
      document.head.append(sheet);
      const attributed = document.createElement('div');
      attributed.setAttribute('style', 'width: 77px');
      document.body.append(attributed);
      return [getComputedStyle(probe).width, getComputedStyle(attributed).width];
    });
    expect(applied).not.toContain('123px');
    expect(applied).not.toContain('77px');
    await expect.poll(violations).toEqual([expect.stringMatching(/^style-src-elem/), expect.stringMatching(/^style-src-attr/)]);
  });
});
