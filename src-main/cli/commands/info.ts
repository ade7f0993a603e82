import { appInfo } from '../../services/app';
import type { Command } from '../command';

export const info: Command = {
  name: 'info',
  summary: 'Print the app version, platform and the onnxruntime execution providers as JSON (same as app.info)',
  usage: 'tsuzuki info',
  async run() {
    process.stdout.write(JSON.stringify(await appInfo(), null, 2) + '\n');
    return 0;
  },
};
