/**
 * `npm run bench -- checkpoint-read [hf-dir]`
 *
 * Opens a Hugging Face checkpoint and reads every tensor once as float32, one at a time (what the converter
 * does), reporting open time, read time, throughput and peak RSS. Defaults to the full-size random rinna-1b
 * checkpoint that `npm run bench -- convert` leaves in `.cache/bench/rinna-1b-random`.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../../src-main/model/format/checkpoint';

const root = fileURLToPath(new URL('../../', import.meta.url));

export default async function (args: string[]): Promise<object> {
  const dir = args[0] ?? join(root, '.cache/bench/rinna-1b-random');
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`${dir} has no checkpoint; pass a Hugging Face folder or run \`npm run bench -- convert\` first.`);
  }
  const rssBefore = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  const checkpoint = await openCheckpoint(dir);
  const openMs = performance.now() - t0;
  let sourceBytes = 0;
  for (const file of checkpoint.files) sourceBytes += (await stat(file)).size;

  const t1 = performance.now();
  let values = 0;
  let largest = 0;
  const names = checkpoint.names().filter((n) => !(n === 'lm_head.weight' && checkpoint.config.tieWordEmbeddings));
  for (const [i, name] of names.entries()) {
    const data = await checkpoint.readF32(name);
    values += data.length;
    largest = Math.max(largest, data.byteLength);
    if (i % 50 === 0) process.stderr.write(`[checkpoint-read] ${i + 1}/${names.length} ${name}\n`);
  }
  const readSeconds = (performance.now() - t1) / 1000;
  await checkpoint.close();
  return {
    dir,
    format: checkpoint.format,
    dtypes: [...new Set(names.map((n) => checkpoint.info(n).dtype))],
    tensors: names.length,
    sourceBytes,
    openMs: Math.round(openMs),
    readSeconds: Number(readSeconds.toFixed(2)),
    sourceMBPerSecond: Math.round(sourceBytes / 1e6 / readSeconds),
    float32Values: values,
    largestTensorMB: Math.round(largest / 1e6),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeMB: Math.round(rssBefore / 1024),
  };
}
