import { resolve } from 'node:path';
import { downloadModel } from '../../model/hub/download';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { progressBar } from '../progress';

const usage = 'tsuzuki download <repo-id> <dest> [--revision main] [--endpoint URL]';

export const download: Command = {
  name: 'download',
  summary: 'Download what a model needs from Hugging Face (config, tokenizer, one weight file), verified; run again to resume',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      revision: { type: 'string', default: 'main' },
      endpoint: { type: 'string' },
    });
    if (positionals.length !== 2) throw new TsuzukiError('invalid_argument', `Expected <repo-id> and <dest>.\nUsage: ${usage}`);
    const [repo, dest] = positionals as [string, string];
    const bar = await progressBar();
    const handle = downloadModel({
      repo,
      revision: values.revision,
      dest: resolve(dest),
      clientOptions: { endpoint: values.endpoint },
      onProgress: bar.download,
    });
    // Ctrl-C keeps the partial files: running the command again resumes them.
    const interrupt = () => handle.pause();
    process.once('SIGINT', interrupt);
    try {
      const result = await Promise.race([handle.done, bar.paused]);
      bar.stop();
      if (!result) {
        process.stderr.write(`Interrupted. The partial files stay in ${resolve(dest)}; run the same command again to resume.\n`);
        return 130;
      }
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return 0;
    } finally {
      bar.stop();
      process.off('SIGINT', interrupt);
    }
  },
};
