import pkg from '../../../package.json' with { type: 'json' };
import type { Command } from '../command';

export const version: Command = {
  name: 'version',
  summary: 'Print the version (also `tsuzuki --version`)',
  usage: 'tsuzuki --version',
  async run() {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  },
};
