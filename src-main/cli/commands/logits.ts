import { DecoderSession } from '../../engine/session';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import { providerOption } from './generate';
import type { Command } from '../command';

const usage = 'tsuzuki logits --model <dir> --ids 1,2,3[;4,5] [--all-positions] [--device cpu|cuda|dml|webgpu|coreml] [--threads N]';

/** `1,2,3;4,5` → [[1,2,3],[4,5]]. */
function parseIds(text: string): number[][] {
  return text.split(';').map((part) => {
    const ids = part.split(',').map((s) => s.trim());
    if (ids.length === 0 || ids.some((s) => !/^\d+$/.test(s))) {
      throw new TsuzukiError('invalid_argument', `--ids: "${part}" is not a comma-separated list of token ids.\nUsage: ${usage}`);
    }
    return ids.map(Number);
  });
}

export const logits: Command = {
  name: 'logits',
  summary: "Print a converted model's logits for token ids as JSON (last position, or every position), for verification",
  usage,
  async run(args) {
    const { values } = parseCommandArgs(
      usage,
      args,
      {
        model: { type: 'string' },
        ids: { type: 'string' },
        'all-positions': { type: 'boolean', default: false },
        threads: { type: 'string' },
        device: { type: 'string' },
      },
      false,
    );
    if (!values.model || !values.ids) throw new TsuzukiError('invalid_argument', `--model and --ids are required.\nUsage: ${usage}`);
    const sequences = parseIds(values.ids);
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
      throw new TsuzukiError('invalid_argument', `--threads must be a positive integer.\nUsage: ${usage}`);
    }
    // One device's numbers, to check against a reference.
    const session = await DecoderSession.load(values.model, { threads, executionProvider: providerOption(values.device, usage) });
    try {
      const allPositions = values['all-positions'];
      const rows = await session.sequenceLogits(sequences, { allPositions });
      const results = sequences.map((ids, i) => ({
        ids,
        logits: allPositions ? rows[i]!.map((r) => Array.from(r)) : Array.from(rows[i]![0]!),
      }));
      process.stdout.write(JSON.stringify({ executionProvider: session.executionProvider, results }) + '\n');
      return 0;
    } finally {
      await session.release();
    }
  },
};
