/**
 * `npm run bench -- tokenizer [--model <spiece.model or dir>]`: encode throughput on Japanese prose, line by line
 * and as one 200,000-character document. Default model: the nmt_nfkc fixture; pass rinna's spiece.model for
 * production numbers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../../src-main/tokenizer';

const FIXTURES = fileURLToPath(new URL('../fixtures/tokenizer/', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Wall and CPU milliseconds of fn. The bench machine is shared, so wall time includes waiting for a
 * core; CPU time (this process, one thread doing the work) is what one core needs.
 */
function timed(fn: () => void): { wall: number; cpu: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  return { wall, cpu: (u.user + u.system) / 1000 };
}

export default async function (args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { model: { type: 'string' } } });
  const modelPath = values.model ?? `${FIXTURES}nfkc.model`;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const tok = await loadTokenizer(modelPath);
  const loadMs = performance.now() - t0;
  const loadCpu = process.cpuUsage(c0);

  const cases = gunzipSync(readFileSync(`${FIXTURES}cases.jsonl.gz`))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as string);
  const prose = cases.slice(0, 3000).filter((s) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(s));
  const proseBytes = prose.reduce((n, s) => n + Buffer.byteLength(s), 0);

  // Line by line, as an editor encodes paragraphs.
  for (const s of prose) tok.encode(s); // warm-up
  const lineWall: number[] = [];
  const lineCpu: number[] = [];
  for (let r = 0; r < 7; r++) {
    const { wall, cpu } = timed(() => {
      for (const s of prose) tok.encode(s);
    });
    lineWall.push(proseBytes / 1e6 / (wall / 1000));
    lineCpu.push(proseBytes / 1e6 / (cpu / 1000));
  }
  process.stderr.write(`lines: ${lineWall.map((x) => x.toFixed(2)).join(' ')} MB/s wall\n`);

  // One 200,000-character document.
  let doc = '';
  for (let i = 0; doc.length < 200_000; i++) doc += prose[i % prose.length]! + '\n';
  doc = doc.slice(0, 200_000);
  const docBytes = Buffer.byteLength(doc);
  const wholeMs: number[] = [];
  const wholeCpu: number[] = [];
  for (let r = 0; r < 7; r++) {
    const { wall, cpu } = timed(() => tok.encode(doc));
    wholeMs.push(wall);
    wholeCpu.push(cpu);
  }
  process.stderr.write(`whole document: ${wholeMs.map((x) => x.toFixed(1)).join(' ')} ms wall\n`);

  // Mostly-kana/kanji lines (the corpus is technical prose with commands in it).
  const japanese = prose.filter((s) => (s.match(/[\u3040-\u30ff\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]/g)?.length ?? 0) >= s.length * 0.9);
  const japaneseBytes = japanese.reduce((n, s) => n + Buffer.byteLength(s), 0);
  const japaneseCpu: number[] = [];
  for (let r = 0; r < 7; r++) {
    japaneseCpu.push(
      timed(() => {
        for (let k = 0; k < 5; k++) for (const s of japanese) tok.encode(s);
      }).cpu / 5,
    );
  }

  return {
    model: modelPath,
    vocabSize: tok.vocabSize,
    newlineMode: tok.newline.mode,
    loadMs: +loadMs.toFixed(1),
    loadCpuMs: +((loadCpu.user + loadCpu.system) / 1000).toFixed(1),
    loadAverage: (await import('node:os')).loadavg()[0],
    encodeProseLines: {
      lines: prose.length,
      megabytes: +(proseBytes / 1e6).toFixed(3),
      mbPerSec: +median(lineWall).toFixed(2),
      mbPerCpuSec: +median(lineCpu).toFixed(2),
    },
    encodePureJapaneseLines: {
      lines: japanese.length,
      megabytes: +(japaneseBytes / 1e6).toFixed(3),
      mbPerCpuSec: +(japaneseBytes / 1e6 / (median(japaneseCpu) / 1000)).toFixed(2),
    },
    encodeWholeDocument: {
      chars: doc.length,
      megabytes: +(docBytes / 1e6).toFixed(3),
      medianMs: +median(wholeMs).toFixed(1),
      mbPerSec: +(docBytes / 1e6 / (median(wholeMs) / 1000)).toFixed(2),
      mbPerCpuSec: +(docBytes / 1e6 / (median(wholeCpu) / 1000)).toFixed(2),
    },
    targets: { mbPerSec: 5 },
  };
}
