import { describeRecovery } from '../../store/backups';
import { checkFile } from '../../store/check';
import { defaultDatabasePath } from '../../store/location';
import { Store } from '../../store/store';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { exitStatusFor } from '../exit-status';

const usage = 'tsuzuki db check|backup|recover [--db FILE]';

export const db: Command = {
  name: 'db',
  summary: 'Check a Tsuzuki database fully (read-only: writes nothing), take an online backup of it, or recover it as the app would; prints JSON',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, { db: { type: 'string', default: defaultDatabasePath() } });
    const [action, ...rest] = positionals;
    if ((action !== 'check' && action !== 'backup' && action !== 'recover') || rest.length > 0) {
      throw new TsuzukiError('invalid_argument', `${action === undefined ? 'missing action' : `unknown action "${[action, ...rest].join(' ')}"`}\nUsage: ${usage}`);
    }
    if (action === 'check') {
      // Writes nothing (no migration, no journal mode, no file beside it): works on a read-only file or folder.
      const result = checkFile(values.db);
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      if (!result.ok) process.stderr.write(`tsuzuki db: ${values.db} is damaged: ${result.integrity.slice(0, 3).join('; ')}\n`);
      return result.ok ? 0 : exitStatusFor('corrupt_file');
    }
    if (action === 'recover') {
      // What the app does at start: a damaged file is kept aside, the newest good backup restored and the file salvaged.
      const store = await Store.open(values.db, { create: false, recover: true });
      try {
        const { recovery } = store.report;
        process.stdout.write(JSON.stringify({ path: values.db, recovery }, null, 2) + '\n');
        process.stderr.write(`tsuzuki db: ${recovery ? describeRecovery(values.db, recovery) : `${values.db} is not damaged; nothing to recover.`}\n`);
        return 0;
      } finally {
        store.close();
      }
    }
    // Never create, never recover here: a damaged or foreign file is reported (exit 1) and left as it is.
    const store = await Store.open(values.db, { create: false });
    try {
      process.stdout.write(JSON.stringify(await store.backup(), null, 2) + '\n');
      return 0;
    } finally {
      store.close();
    }
  },
};
