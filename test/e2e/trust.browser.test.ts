/**
 * No keystroke lost, in a real browser against the real `tsuzuki serve` (issue 20, items 1 and 2): text typed just
 * before a reload or a closed tab comes back, and when the server dies the page says so, keeps the text, reconnects
 * to the server started again (same port, database and token) and saves it there — 保存済み only once it is saved.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';

const TOKEN = 'trust-test-token-0123456789abcdef-0123456789';
let home: string;
let renderer: string;
let port: number;
let browser: Browser | undefined;
let served: Served | undefined;
let context: BrowserContext | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** The server on the same port, database and token every time, so a page open in the browser can reconnect. */
async function serve(): Promise<Served> {
  served = await startServe(['--renderer', renderer, '--db', join(home, 'tsuzuki.db'), '--port', String(port)], { TSUZUKI_HOME: home, TSUZUKI_SERVE_TOKEN: TOKEN });
  return served;
}

async function killServer(): Promise<void> {
  const child = served!.process;
  served = undefined;
  if (child.exitCode !== null) return;
  await new Promise((done) => {
    child.once('exit', done);
    child.kill('SIGKILL');
  });
}

const url = () => `http://127.0.0.1:${port}/?token=${TOKEN}`;

async function openPage(): Promise<Page> {
  const page = await context!.newPage();
  await page.goto(url());
  await page.getByTestId('editor').waitFor();
  return page;
}

const editorText = (page: Page) => page.getByTestId('editor').evaluate((el) => el.textContent ?? '');

async function typeAtEnd(page: Page, text: string): Promise<void> {
  await page.getByTestId('editor').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText(text);
}

/** The open document as the server has it, asked over a WebSocket of its own (not the app's). */
function savedDocument(page: Page): Promise<{ body: string; memo: string }> {
  return page.evaluate(async (wsUrl) => {
    const ws = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    let nextId = 1;
    const call = (channel: string, payload: unknown) =>
      new Promise<{ ok: boolean; value: never }>((resolve) => {
        const id = nextId++;
        ws.addEventListener('message', (m) => {
          const data = JSON.parse(String(m.data)) as { type: string; id: number; result: { ok: boolean; value: never } };
          if (data.type === 'result' && data.id === id) resolve(data.result);
        });
        ws.send(JSON.stringify({ type: 'call', id, channel, payload }));
      });
    const list = (await call('documents.list', { limit: 10 })).value as { items: { id: number }[] };
    const doc = (await call('documents.get', { id: list.items[0]!.id })).value as { body: string; memo: string };
    ws.close();
    return { body: doc.body, memo: doc.memo };
  }, `ws://127.0.0.1:${port}/ws?token=${TOKEN}`);
}

/** The open document's author's note and banned words as the server has them. */
function savedAids(page: Page): Promise<{ note: string; banned: string[] }> {
  return page.evaluate(async (wsUrl) => {
    const ws = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    const call = (id: number, channel: string, payload: unknown) =>
      new Promise<never>((resolve) => {
        ws.addEventListener('message', (m) => {
          const data = JSON.parse(String(m.data)) as { type: string; id: number; result: { value: never } };
          if (data.type === 'result' && data.id === id) resolve(data.result.value);
        });
        ws.send(JSON.stringify({ type: 'call', id, channel, payload }));
      });
    const list: { items: { id: number }[] } = await call(1, 'documents.list', { limit: 10 });
    const doc: { aids: { authorNote: { text: string }; steering: { bannedPhrases: string[] } } } = await call(2, 'documents.get', { id: list.items[0]!.id });
    ws.close();
    return { note: doc.aids.authorNote.text, banned: doc.aids.steering.bannedPhrases };
  }, `ws://127.0.0.1:${port}/ws?token=${TOKEN}`);
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tsuzuki-trust-'));
  [renderer, port, browser] = await Promise.all([buildRenderer(), freePort(), launchBrowser()]);
}, 180_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
  await served?.stop();
  served = undefined;
});

afterAll(async () => {
  await browser?.close();
  rmSync(home, { recursive: true, force: true });
});

async function freshContext(): Promise<void> {
  context = await browser!.newContext();
  // No model in this test: skip the first-run models screen and go straight to writing.
  await context.addInitScript(() => localStorage.setItem('tsuzuki.setupDismissed', '1'));
}

describe('text typed just before the page goes away', () => {
  it('is there after a reload within the save delay', async () => {
    await freshContext();
    await serve();
    const page = await openPage();
    await typeAtEnd(page, '再読み込みの直前に打った文。');
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await expect.poll(() => editorText(page), { timeout: 10_000 }).toContain('再読み込みの直前に打った文。');
    await expect.poll(async () => (await savedDocument(page)).body, { timeout: 10_000 }).toContain('再読み込みの直前に打った文。');
  }, 60_000);

  it('comes back with a notice when the server never got it, body and memo', async () => {
    await freshContext();
    await serve();
    let page = await openPage();
    await page.getByTestId('toggle-memo').click();
    await killServer();
    await page.getByTestId('memo').fill('主人公は猫。');
    await typeAtEnd(page, '誰にも届かなかった文。');
    await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);

    await serve();
    page = await openPage();
    await page.getByTestId('restored-notice').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('restored-notice').textContent()).toContain('前回保存されなかった本文とメモを');
    expect(await editorText(page)).toContain('誰にも届かなかった文。');
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 10_000 }).toBe('保存済み');
    expect(await savedDocument(page)).toMatchObject({ body: expect.stringContaining('誰にも届かなかった文。') as string, memo: '主人公は猫。' });

    // Saved now: the next load restores nothing.
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('save-state').waitFor();
    expect(await page.getByTestId('restored-notice').count()).toBe(0);
  }, 60_000);
});

describe('the document\'s aids edited while the server is gone', () => {
  it('come back with a notice and are saved: the author\'s note and a banned word', async () => {
    await freshContext();
    await serve();
    let page = await openPage();
    await killServer();
    await page.getByTestId('toggle-aids').click();
    await page.getByTestId('author-note').fill('雪の夜の場面。');
    await page.getByTestId('toggle-aids').click();
    await page.getByTestId('toggle-steering').click();
    await page.getByTestId('banned-input').fill('吾輩');
    await page.getByTestId('banned-add').click();
    await page.getByTestId('banned-phrase').waitFor();
    await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);

    await serve();
    page = await openPage();
    await page.getByTestId('restored-notice').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('restored-notice').textContent()).toContain('前回保存されなかった脚注・ブック・禁止ワードを');
    await page.getByTestId('toggle-aids').click();
    expect(await page.getByTestId('author-note').inputValue()).toBe('雪の夜の場面。');
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 10_000 }).toBe('保存済み');
    await expect.poll(() => savedAids(page), { timeout: 10_000 }).toEqual({ note: '雪の夜の場面。', banned: ['吾輩'] });
  }, 60_000);
});

describe('the server dies while the writer types', () => {
  it('says the connection is lost, never 保存済み, and saves the text once a server is back', async () => {
    await freshContext();
    await serve();
    const page = await openPage();
    await typeAtEnd(page, '届いた文。');
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 10_000 }).toBe('保存済み');

    await killServer();
    await page.getByTestId('connection-lost').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('connection-lost').textContent()).toContain('サーバーとの接続が切れました');
    await typeAtEnd(page, 'サーバーが止まってから打った文。');
    // The save is tried and fails (at most a few seconds' wait for the server): it must not read as saved.
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 15_000 }).toBe('保存できませんでした');

    await serve();
    await page.getByTestId('connection-lost').waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 10_000 }).toBe('保存済み');
    expect((await savedDocument(page)).body).toContain('サーバーが止まってから打った文。');
  }, 90_000);
});
