import { slidingPerplexity } from '../../engine/perplexity';
import { GenerationRuntime } from '../../services/generation-runtime';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { readTextInput } from '../text-input';
import { deviceOption, numberOption } from './generate';

const usage = 'tsuzuki eval --model <dir> --text FILE|- (standard input) [--stride N] [--device …] [--threads N]';

/** Perplexity over the model's full context, sliding by `--stride` (half the context by default). */
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
    const stdin = values.text === '-';
    const text = await readTextInput({ argument: stdin ? '-' : undefined, file: stdin ? undefined : values.text, fileOption: 'text', what: 'text', usage });
    const started = performance.now();
    const runtime = await GenerationRuntime.open(values.model, { device: deviceOption(values.device, usage), ...(threads ? { threads } : {}) });
    try {
      const maxLength = runtime.generator.nPositions;
      const stride = numberOption('stride', values.stride, true, usage) ?? Math.floor(maxLength / 2);
      const ids = runtime.tokenizer.encodeContext(text);
      let windows = 0;
      const result = await slidingPerplexity(runtime.generator.session, ids, {
        maxLength,
        stride,
        onWindow: (end) => process.stderr.write(`\rwindow ${++windows}: ${end}/${ids.length} tokens`),
      });
      process.stderr.write('\n');
      const report = {
        perplexity: result.perplexity,
        meanNll: result.meanNll,
        tokens: ids.length,
        scoredTokens: result.scoredTokens,
        windows: result.windows,
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
