import { loadTokenizer } from '../../tokenizer';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

const usage = 'tsuzuki detokenize --tokenizer <spiece.model or model dir> ID…';

export const detokenize: Command = {
  name: 'detokenize',
  summary: 'Decode token ids with a SentencePiece model and print the text',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, { tokenizer: { type: 'string' } });
    if (!values.tokenizer) throw new TsuzukiError('invalid_argument', `--tokenizer is required.\nUsage: ${usage}`);
    const ids = positionals.flatMap((p) => p.split(/[\s,]+/).filter((s) => s.length > 0));
    const bad = ids.find((s) => !/^\d+$/.test(s));
    if (bad !== undefined) throw new TsuzukiError('invalid_argument', `"${bad}" is not a token id (a non-negative integer).\nUsage: ${usage}`);
    const tok = await loadTokenizer(values.tokenizer);
    process.stdout.write(tok.decode(ids.map(Number)) + '\n');
    return 0;
  },
};
