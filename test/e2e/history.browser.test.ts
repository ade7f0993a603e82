/**
 * The history's detail in a real browser against `tsuzuki serve` with the tiny fixture model: how a continuation came
 * to be is a labelled table in the UI's language, not raw JSON; a continuation still proposed when the server died
 * shows as interrupted once it is started again on the same database.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser';
import { fixSeed, mod, waitForGenerationEnd } from '../helpers/editor';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';
import { convertTinyModel } from '../helpers/tiny-model';

let browser: Browser;
let page: Page;
let served: Served;
let serveArgs: string[];

async function openApp() {
  served = await startServe(serveArgs);
  await page.goto(served.url);
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
}

beforeAll(async () => {
  const [renderer, model] = await Promise.all([buildRenderer(), convertTinyModel('tiny-safetensors-fp32', 'fp32')]);
  serveArgs = ['--renderer', renderer, '--db', join(mkdtempSync(join(tmpdir(), 'tsuzuki-history-')), 'tsuzuki.db'), '--model', model, '--device', 'cpu'];
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await openApp();
  // A fixed seed, so the table's seed row is known.
  await fixSeed(page, 1234);
  await page.getByTestId('editor').click();
  await page.keyboard.insertText('吾輩は猫である。');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

/** Asks for a continuation at the end of the text and waits until it is complete and proposed. */
async function propose() {
  await page.getByTestId('editor').click();
  await page.keyboard.press(`${mod}+End`);
  await page.keyboard.press(`${mod}+Enter`);
  await page.getByTestId('proposal').waitFor();
  await waitForGenerationEnd(page);
}

/** Opens the history and returns the entries' status words, newest first. */
async function statuses(): Promise<string[]> {
  await page.getByTestId('toggle-history').click();
  await page.getByTestId('history-item').first().waitFor();
  const metas = await page.getByTestId('history-item').locator('.meta').allTextContents();
  await page.getByTestId('toggle-history').click();
  return metas.map((m) => m.split(' · ')[1]!);
}

/** The detail's tables as label → value. */
const factTable = () =>
  page.getByTestId('history-detail').evaluate((el) =>
    Object.fromEntries([...el.querySelectorAll('[data-testid="history-facts"] tr')].map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent])),
  );

describe('the history detail', () => {
  it('shows the parameters and timings of a real continuation as a labelled table, in Japanese and in English, without raw JSON', async () => {
    await propose();
    await page.keyboard.press('Tab');
    await page.getByTestId('proposal').waitFor({ state: 'detached' });
    await expect.poll(async () => (await statuses())[0], { timeout: 10_000 }).toBe('採用');

    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-item').first().click();
    const detail = page.getByTestId('history-detail');
    await detail.waitFor();
    expect(await detail.locator('caption').allTextContents()).toEqual(['生成の設定', '実行の記録']);
    const ja = await factTable();
    // The default preset (the model card's), with the seed set above, on the CPU with the fp32 model.
    expect(ja).toMatchObject({
      方式: 'サンプリング', 'top-k': '500', 'top-p': '0.95', 温度: '1', 繰り返しペナルティ: '1', 長さ: '60 トークン', 候補の数: '1', シード: '1234',
      デバイス: 'CPU', 精度: 'fp32',
    });
    for (const label of ['モデルの読み込み', '文脈の計算', '最初のトークンまで', '生成', '合計']) expect(ja[label], label).toMatch(/^\d{1,3}(,\d{3})*(\.\d)? ミリ秒$/);
    expect(ja['速度']).toMatch(/^\d[\d,]*(\.\d)? トークン\/秒$/);
    expect(ja['生成した長さ']).toMatch(/^[1-9]\d* トークン$/);
    expect(ja['文脈']).toMatch(/^[1-9]\d* トークン$/);
    const text = (await detail.textContent()) ?? '';
    expect(text).not.toMatch(/[{}]|"\w+":|topK|seed=/);

    await page.getByTestId('language').selectOption('en');
    await expect.poll(async () => (await detail.locator('caption').allTextContents()).join('|')).toBe('Generation settings|How it ran');
    const en = await factTable();
    expect(en).toMatchObject({ Method: 'Sampling', 'Top-k': '500', 'Top-p': '0.95', Length: '60 tokens', Seed: '1234', Precision: 'fp32' });
    expect(en['Model load']).toMatch(/^\d{1,3}(,\d{3})*(\.\d)? ms$/);
    expect(en['Speed']).toMatch(/^\d[\d,]*(\.\d)? tokens\/s$/);
    await page.getByTestId('language').selectOption('ja');
    await page.getByRole('button', { name: /一覧へ/ }).click();
    await page.getByTestId('toggle-history').click();
  });

  it('shows a continuation left proposed when the server died as 中断 after a restart; the accepted one stays 採用', async () => {
    await propose();
    expect(await statuses()).toEqual(['提案中', '採用']);

    // A crash, not a clean shutdown: the proposal is never resolved.
    const exited = new Promise((resolve) => served.process.once('exit', resolve));
    served.process.kill('SIGKILL');
    await exited;
    await openApp();

    expect(await statuses()).toEqual(['中断', '採用']);
    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-item').first().click();
    await expect.poll(() => page.getByTestId('history-detail-status').textContent()).toBe('中断');
    await page.getByTestId('language').selectOption('en');
    await expect.poll(() => page.getByTestId('history-detail-status').textContent()).toBe('Interrupted');
    await page.getByTestId('language').selectOption('ja');
  });
});
