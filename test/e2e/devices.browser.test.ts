/**
 * The settings' device list on this machine, in a real browser against `tsuzuki serve`: only the devices this
 * platform and this onnxruntime build provide (no DirectML off Windows, no CoreML off macOS), each one that cannot
 * run now greyed with the reason; and where only the CPU runs, a neutral note with its measured speed — no ⚠, nothing
 * styled as an error, in the settings or in the generation bar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { mod, openEditor, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;

beforeAll(async () => {
  // No --device: the settings' choice, `auto` by default.
  editor = await openEditor();
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

interface Option {
  value: string;
  label: string;
  disabled: boolean;
}

async function deviceOptions(): Promise<Option[]> {
  const select = page.getByTestId('engine-settings').locator('select[data-testid="device-choice"]');
  // The GPUs are listed once probed (a second or so).
  await expect.poll(() => select.locator('option').count(), { timeout: 60_000 }).toBeGreaterThan(2);
  return select.locator('option').evaluateAll((options) =>
    (options as HTMLOptionElement[]).map((o) => ({ value: o.value, label: o.textContent ?? '', disabled: o.disabled })),
  );
}

/** Nothing in the engine settings and the generation bar looks like a warning or an error. */
async function expectNoWarning() {
  for (const id of ['engine-settings', 'generation-bar']) {
    const area = page.getByTestId(id);
    expect(await area.textContent()).not.toContain('⚠');
    expect(await area.locator('[role="alert"], .error, .warn').count()).toBe(0);
  }
  const danger = await page.evaluate(() => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--danger)';
    document.body.append(probe);
    const color = getComputedStyle(probe).color;
    probe.remove();
    return color;
  });
  const colors = await page.getByTestId('engine-settings').locator('*').evaluateAll((els) => els.map((el) => getComputedStyle(el).color));
  expect(colors).not.toContain(danger);
}

describe('the device list', () => {
  it('lists only what this platform and build provide, the ones that cannot run greyed with the reason', async () => {
    await page.getByTestId('toggle-settings').click();
    const options = await deviceOptions();
    const values = options.map((o) => o.value);
    expect(values.slice(0, 2)).toEqual(['auto', 'cpu']);
    if (process.platform !== 'win32') expect(values).not.toContain('dml');
    if (process.platform !== 'darwin') expect(values).not.toContain('coreml');
    expect(options.find((o) => o.value === 'cpu')).toMatchObject({ label: 'CPU', disabled: false });
    // WebGPU is in every build: runnable where it beats the CPU, otherwise greyed and the label says why (in Japanese).
    const webgpu = options.find((o) => o.value === 'webgpu')!;
    if (webgpu.disabled) expect(webgpu.label).toMatch(/^WebGPU(.*(動きません|遅い).*)$/);
    else expect(webgpu.label).toBe('WebGPU');
  });

  it('on a machine where only the CPU runs, says so neutrally with the measured speed, and shows no warning', async () => {
    const options = await deviceOptions();
    const gpuRuns = options.some((o) => !['auto', 'cpu'].includes(o.value) && !o.disabled);
    const note = page.getByTestId('cpu-only-note');
    if (gpuRuns) {
      expect(await note.count()).toBe(0);
      return;
    }
    expect(await note.textContent()).toContain('CPU');
    expect(await note.textContent()).toContain('最初の続きを書いたときに測ります');
    await expectNoWarning();

    // A continuation on auto: the CPU, and no ⚠ for it.
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は猫である。');
    await page.keyboard.press(`${mod}+Enter`);
    await page.getByTestId('proposal').waitFor({ timeout: 60_000 });
    await waitForGenerationEnd(page);
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('generation-bar').getByTestId('device').textContent()).toBe('CPU');
    expect(await page.getByTestId('fallback').count()).toBe(0);

    // The settings now give that continuation's speed.
    await page.getByTestId('toggle-settings').click();
    await expect.poll(() => note.textContent(), { timeout: 10_000 }).toMatch(/\d+(\.\d)? トークン\/秒/);
    await expectNoWarning();
  });
});
