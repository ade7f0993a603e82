import { readFile } from 'node:fs/promises';
import { GenerationRuntime } from '../../services/generation-runtime';
import { TsuzukiError } from '../../util/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { deviceOption, numberOption } from './generate';

const usage = 'tsuzuki eval --model <dir> --text FILE [--stride N] [--device …] [--threads N]';

/**
 * Perplexity with a sliding window, as in Hugging Face's perplexity guide: windows of the model's full context
 * advance by `stride` tokens; each window scores only the tokens not scored before (the rest is context), and the
 * result is exp of the mean negative log-likelihood over all scored tokens.
 */
export const evaluate: Command = {
  name: 'eval',
  summary: "Perplexity of a converted model on a text file (sliding window), as JSON",
  usage,
  async run(args) {
    const { values } = parseCommandArgs(
      usage,
      args,
      { model: { type: 'string' }, text: { type: 'string' }, stride: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' } },
      false,
    );
    if (!values.model || !values.text) throw new TsuzukiError('invalid_argument', `--model and --text are required.\nUsage: ${usage}`);
    const threads = numberOption('threads', values.threads, true, usage);
    let text: string;
    try {
      text = await readFile(values.text, 'utf8');
    } catch (cause) {
      throw new TsuzukiError('not_found', `Cannot read ${values.text}: ${(cause as Error).message}`, { cause });
    }
    const started = performance.now();
    const runtime = await GenerationRuntime.open(values.model, { device: deviceOption(values.device, usage), ...(threads ? { threads } : {}) });
    try {
      const maxLength = runtime.generator.nPositions;
      const stride = numberOption('stride', values.stride, true, usage) ?? Math.floor(maxLength / 2);
      if (stride < 1 || stride > maxLength) throw new TsuzukiError('invalid_argument', `--stride must be from 1 to ${maxLength}, got ${stride}.`);
      const ids = runtime.tokenizer.encodeContext(text);
      if (ids.length < 2) throw new TsuzukiError('invalid_argument', `${values.text} has fewer than two tokens; there is nothing to score.`);
      const session = runtime.generator.session;
      let nll = 0;
      let scored = 0;
      let windows = 0;
      let previousEnd = 0;
      for (let begin = 0; begin < ids.length; begin += stride) {
        const end = Math.min(begin + maxLength, ids.length);
        const window = ids.slice(begin, end);
        const { logits, dims } = await session.forward({ ids: [window], attentionMask: [window.map(() => 1)], positionIds: [window.map((_, i) => i)] });
        const vocab = dims[2];
        // Token t of the window is predicted by the logits at t - 1; only tokens after the previous window's end count.
        for (let t = Math.max(1, previousEnd - begin); t < window.length; t++) {
          nll -= logProb(logits.subarray((t - 1) * vocab, t * vocab), window[t]!);
          scored++;
        }
        windows++;
        previousEnd = end;
        process.stderr.write(`\rwindow ${windows}: ${end}/${ids.length} tokens`);
        if (end === ids.length) break;
      }
      process.stderr.write('\n');
      const report = {
        perplexity: Math.exp(nll / scored),
        meanNll: nll / scored,
        tokens: ids.length,
        scoredTokens: scored,
        windows,
        maxLength,
        stride,
        device: runtime.device,
        precision: runtime.manifest.precision,
        seconds: (performance.now() - started) / 1000,
      };
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

/** log softmax(row)[id], in double precision. */
function logProb(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return row[id]! - max - Math.log(sum);
}
