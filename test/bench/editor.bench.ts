/**
 * `npm run bench -- editor [--chars 200000] [--keys 60]`
 *
 * The editor with a 200,000-character document in Debian's Chromium, against the real services: how long a
 * keystroke takes to reach the screen. Per key: the time from the keydown to the next animation frame (the frame
 * that shows the character), and the browser's own Event Timing duration (input → next paint, 8 ms granularity).
 * Target: within one frame (16.7 ms at 60 Hz) at p95.
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DocumentsService } from '../../src-main/services/documents';
import { Store } from '../../src-main/store/store';
import { launchBrowser } from '../helpers/browser';
import { buildRenderer } from '../helpers/renderer';
import { startServe } from '../helpers/serve';

const FRAME_MS = 1000 / 60;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function prose(chars: number): string {
  const sentences = ['吾輩は猫である。', '名前はまだ無い。', 'どこで生れたかとんと見当がつかぬ。', '何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。'];
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const line = sentences.slice(0, 1 + (i % sentences.length)).join('');
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n').slice(0, chars);
}

export default async function editorBench(args: string[]) {
  const { values } = parseArgs({ args, options: { chars: { type: 'string', default: '200000' }, keys: { type: 'string', default: '60' } } });
  const chars = Number(values.chars);
  const keys = Number(values.keys);
  const home = mkdtempSync(join(tmpdir(), 'tsuzuki-editor-bench-'));
  const db = join(home, 'tsuzuki.db');
  const store = await Store.open(db);
  new DocumentsService(store).create({ title: 'bench', body: prose(chars) });
  store.close();

  process.stderr.write(`building the renderer, starting serve with a ${chars}-character document…\n`);
  const renderer = await buildRenderer();
  const served = await startServe(['--renderer', renderer, '--db', db, '--models', join(home, 'models')], { TSUZUKI_HOME: home });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(served.url);
    // The setup screen opens first (no model here): go straight to writing.
    await page.getByTestId('models-close').click();
    await page.getByTestId('editor').waitFor();
    const loaded = await page.getByTestId('editor').evaluate((el) => el.textContent?.length ?? 0);
    await page.getByTestId('editor').click();
    await page.keyboard.press('Control+End');
    await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __events: number[] };
      w.__frames = [];
      w.__events = [];
      document.addEventListener('keydown', (e) => {
        const start = e.timeStamp;
        requestAnimationFrame((t) => w.__frames.push(t - start));
      }, true);
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (entry.name === 'keydown' || entry.name === 'keypress') w.__events.push(entry.duration);
      }).observe({ type: 'event', durationThreshold: 16, buffered: false } as PerformanceObserverInit);
    });
    for (let i = 0; i < keys; i++) {
      // ASCII keys: each is a real keydown → input → render (non-ASCII text would be inserted without key events).
      await page.keyboard.press('abcdefghij'[i % 10]!);
      await page.waitForTimeout(50);
    }
    await page.waitForTimeout(300);
    const { frames, events } = await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __events: number[] };
      return { frames: w.__frames, events: w.__events };
    });
    return {
      machine: { loadAverage: loadavg() },
      documentChars: chars,
      loadedChars: loaded,
      keys: frames.length,
      keydownToFrameMs: { p50: percentile(frames, 50), p95: percentile(frames, 95), max: Math.max(...frames) },
      // Event Timing (input → next paint presented, 8 ms steps) only reports events of 16 ms or more; headless
      // Chromium presents at most one frame per 16.7 ms, so this includes waiting for the frame itself.
      eventTiming: { reported: events.length, p50: percentile(events, 50), p95: percentile(events, 95), max: events.length ? Math.max(...events) : 0 },
      targetMs: FRAME_MS,
      met: percentile(frames, 95) <= FRAME_MS,
    };
  } finally {
    await browser.close();
    await served.stop();
  }
}
