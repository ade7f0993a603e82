/**
 * `npm run bench -- store-latency [--rows N]`
 *
 * How long a keystroke waits on the main thread while a 60,000-row history import runs: the import goes through
 * the store handlers as the app calls them, once on this thread (the database as it was before the worker) and once
 * in the database worker (services/store-remote.ts). A timer due every 10 ms stands for input: its lateness is the
 * delay a key press would see. Reports the import's wall time and the timer's lateness (median, p95, max) for both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeRequests } from '../../src-main/contract/store';
import { createRouter, type CallContext } from '../../src-main/ipc/router';
import { createStoreHandlers } from '../../src-main/services/store-handlers';
import { RemoteStore } from '../../src-main/services/store-remote';
import { Store } from '../../src-main/store/store';

const contract = { requests: storeRequests, events: {} };
const ctx: CallContext<typeof contract> = { emit: () => {}, signal: new AbortController().signal };
const TICK_MS = 10;

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { median: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1] ?? 0), n: samples.length };
}

/** A JSONL export of `rows` generations of a few hundred characters each, as the history export writes it. */
async function exportOf(dir: string, rows: number): Promise<string> {
  const store = await Store.open(join(dir, 'source.db'));
  try {
    store.db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        store.generations.insert({
          documentId: null,
          groupId: `group-${Math.floor(i / 3)}`,
          altIndex: i % 3,
          contextBefore: `国境の長いトンネルを抜けると雪国であった。${i}`.repeat(12),
          contextAfter: '',
          text: `夜の底が白くなった。信号所に汽車が止まった。${i}`.repeat(3),
          tokenIds: Array.from({ length: 60 }, (_, k) => (i + k) % 44928),
          params: { doSample: true, topK: 500, topP: 0.95, temperature: 1 },
          seed: i,
          modelId: 'rinna/japanese-gpt-1b',
          precision: 'int4',
          device: 'cpu',
          timings: { prefillMs: 120, decodeMs: 1800, tokensPerSecond: 33 },
          finishReason: 'length',
          status: 'accepted',
          createdAt: 1_700_000_000_000 + i * 60_000,
        });
      }
    })();
    return [...store.exportAll()].join('\n');
  } finally {
    store.close();
  }
}

/** Imports `content` through `router`, as the renderer's call would arrive. */
async function importThrough(router: ReturnType<typeof createRouter<typeof contract>>, content: string): Promise<void> {
  const result = await router.dispatch('history.import', { content, name: 'bench.jsonl' }, ctx);
  if (!result.ok) throw new Error(`import failed: ${result.error.message}`);
}

/** Runs `work` while a timer due every TICK_MS records how late it fires. */
async function measure(work: () => Promise<unknown>) {
  const lateness: number[] = [];
  let due = performance.now() + TICK_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lateness.push(Math.max(0, now - due));
    due = now + TICK_MS;
  }, TICK_MS);
  const started = performance.now();
  try {
    await work();
    // A tick still waiting when the work ends (all of them, on a blocked thread) waited until now.
    lateness.push(Math.max(0, performance.now() - due));
  } finally {
    clearInterval(timer);
  }
  return { importMs: Math.round(performance.now() - started), inputDelayMs: stats(lateness) };
}

export default async function (args: string[]): Promise<object> {
  const at = args.indexOf('--rows');
  const rows = at >= 0 ? Number(args[at + 1]) : 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-bench-latency-'));
  try {
    process.stderr.write(`[store-latency] exporting ${rows} rows\n`);
    const content = await exportOf(dir, rows);

    process.stderr.write('[store-latency] import on the main thread\n');
    const local = await Store.open(join(dir, 'main-thread.db'));
    const router = createRouter(contract, createStoreHandlers({ store: local }));
    const mainThread = await measure(() => importThrough(router, content)).finally(() => local.close());

    process.stderr.write('[store-latency] import in the database worker\n');
    const remote = await RemoteStore.open(join(dir, 'worker.db'), () => {});
    const remoteRouter = createRouter(contract, remote.handlers);
    const worker = await measure(() => importThrough(remoteRouter, content)).finally(() => remote.close());

    return {
      machine: { cpus: cpus().length, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
      rows,
      jsonlBytes: Buffer.byteLength(content),
      tickMs: TICK_MS,
      unit: 'ms',
      mainThread,
      worker,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
