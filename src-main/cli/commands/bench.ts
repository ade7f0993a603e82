import { benchmarkSession } from '../../engine/benchmark';
import { defaultThreads, loadModel } from '../../engine/device';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { deviceOption, numberOption } from './generate';

const usage = 'tsuzuki bench --model <dir> [--device auto|cpu|…] [--threads N] [--decode-tokens N]';

export const bench: Command = {
  name: 'bench',
  summary: 'Measure model load, prefill, first-token and decode speed of a converted model on this machine, as JSON',
  usage,
  async run(args) {
    const { values } = parseCommandArgs(
      usage,
      args,
      { model: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' }, 'decode-tokens': { type: 'string' } },
      false,
    );
    if (!values.model) throw new TsuzukiError('invalid_argument', `--model is required.\nUsage: ${usage}`);
    const threads = numberOption('threads', values.threads, true, usage) ?? defaultThreads();
    const decodeTokens = numberOption('decode-tokens', values['decode-tokens'], true, usage) ?? 16;
    if (threads < 1 || decodeTokens < 2) throw new TsuzukiError('invalid_argument', `--threads must be >= 1 and --decode-tokens >= 2.\nUsage: ${usage}`);
    const loaded = await loadModel(values.model, deviceOption(values.device, usage), { threads });
    try {
      const report = await benchmarkSession(loaded.session, { threads, decodeTokens, onProgress: (m) => process.stderr.write(`${m}\n`) });
      process.stdout.write(JSON.stringify({ device: loaded.device, fallbackReason: loaded.fallbackReason, probe: loaded.probe, loadMs: Math.round(loaded.loadMs), ...report }, null, 2) + '\n');
      return 0;
    } finally {
      await loaded.session.release();
    }
  },
};
