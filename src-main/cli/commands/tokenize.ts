import { createInterface } from 'node:readline';
import { loadTokenizer } from '../../tokenizer';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { readTextInput } from '../text-input';
import { TsuzukiError } from '../../contract/errors';

const usage = 'tsuzuki tokenize --tokenizer <spiece.model or model dir> [--lines] [TEXT | - (standard input, the default) | --text-file FILE]';

export const tokenize: Command = {
  name: 'tokenize',
  summary: 'Encode TEXT (or standard input, or a file) with a SentencePiece model: prints {"ids": [...], "pieces": [...]}; --lines: one ids array per stdin line',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      tokenizer: { type: 'string' },
      'text-file': { type: 'string' },
      lines: { type: 'boolean', default: false },
    });
    if (!values.tokenizer) throw new TsuzukiError('invalid_argument', `--tokenizer is required.\nUsage: ${usage}`);
    const tok = await loadTokenizer(values.tokenizer);
    if (values.lines) {
      if (positionals.length > 0 || values['text-file'] !== undefined) throw new TsuzukiError('invalid_argument', `--lines reads standard input; give no TEXT.\nUsage: ${usage}`);
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of rl) {
        if (!process.stdout.write(idsJson(tok.encode(line)) + '\n')) {
          await new Promise((resolve) => process.stdout.once('drain', resolve));
        }
      }
      return 0;
    }
    if (positionals.length > 1) throw new TsuzukiError('invalid_argument', `Give the text as one argument (quote it).\nUsage: ${usage}`);
    // No TEXT and no file: the whole of standard input is the text.
    const argument = positionals[0] ?? (values['text-file'] === undefined ? '-' : undefined);
    const text = await readTextInput({ argument, file: values['text-file'], fileOption: 'text-file', what: 'text', usage });
    const { ids, pieces } = tok.encodeWithPieces(text);
    process.stdout.write(`{"ids": ${idsJson(ids)}, "pieces": [${pieces.map((p) => JSON.stringify(p)).join(', ')}]}\n`);
    return 0;
  },
};

/** JSON laid out as in the command's documented output: `[1, 2, 3]`. */
const idsJson = (ids: number[]) => `[${ids.join(', ')}]`;
