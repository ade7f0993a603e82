/**
 * `npm run bench -- tokenizer [--model <spiece.model or dir>]`: encode throughput on Japanese prose and
 * the time to encode the context for a continuation (the last 1,000 tokens of a 200,000-character
 * document). Default model: the nmt_nfkc fixture; pass rinna's spiece.model for production numbers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../../src-main/tokenizer';

const FIXTURES = fileURLToPath(new URL('../fixtures/tokenizer/', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function (args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { model: { type: 'string' } } });
  const modelPath = values.model ?? `${FIXTURES}nfkc.model`;
  const t0 = performance.now();
  const tok = await loadTokenizer(modelPath);
  const loadMs = performance.now() - t0;

  const cases = gunzipSync(readFileSync(`${FIXTURES}cases.jsonl.gz`))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as string);
  const prose = cases.slice(0, 3000).filter((s) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(s));
  const proseBytes = prose.reduce((n, s) => n + Buffer.byteLength(s), 0);

  // Line by line, as an editor encodes paragraphs.
  for (const s of prose) tok.encode(s); // warm-up
  const lineRates: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (const s of prose) tok.encode(s);
    lineRates.push(proseBytes / 1e6 / ((performance.now() - t) / 1000));
  }
  process.stderr.write(`lines: ${lineRates.map((x) => x.toFixed(2)).join(' ')} MB/s\n`);

  // One 200,000-character document.
  let doc = '';
  for (let i = 0; doc.length < 200_000; i++) doc += prose[i % prose.length]! + '\n';
  doc = doc.slice(0, 200_000);
  const docBytes = Buffer.byteLength(doc);
  const wholeMs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    tok.encode(doc);
    wholeMs.push(performance.now() - t);
  }
  process.stderr.write(`whole document: ${wholeMs.map((x) => x.toFixed(1)).join(' ')} ms\n`);

  // The continuation context: the last 1,000 tokens, with and without paragraph breaks near the end.
  const noBreaks = doc.replace(/\n/g, '');
  const tail = (text: string) => {
    const times: number[] = [];
    let tokens = 0;
    for (let r = 0; r < 60; r++) {
      const t = performance.now();
      tokens = tok.encodeTail(text, 1000).ids.length;
      times.push(performance.now() - t);
    }
    return { medianMs: +median(times.slice(10)).toFixed(3), maxMs: +Math.max(...times.slice(10)).toFixed(3), tokens };
  };

  return {
    model: modelPath,
    vocabSize: tok.vocabSize,
    newlineMode: tok.newline.mode,
    loadMs: +loadMs.toFixed(1),
    encodeProseLines: { lines: prose.length, megabytes: +(proseBytes / 1e6).toFixed(3), mbPerSec: +median(lineRates).toFixed(2) },
    encodeWholeDocument: {
      chars: doc.length,
      megabytes: +(docBytes / 1e6).toFixed(3),
      medianMs: +median(wholeMs).toFixed(1),
      mbPerSec: +(docBytes / 1e6 / (median(wholeMs) / 1000)).toFixed(2),
    },
    tail1000Of200kChars: { withParagraphBreaks: tail(doc), withoutBreaks: tail(noBreaks) },
    targets: { mbPerSec: 5, tailMs: 5 },
  };
}
