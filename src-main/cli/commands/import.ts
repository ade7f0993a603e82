import { readFileSync, statSync } from 'node:fs';
import { MAX_IMPORT_BYTES } from '../../contract/manuscript-files';
import { TsuzukiError } from '../../contract/errors';
import { ManuscriptsService } from '../../services/manuscripts';
import { defaultDatabasePath } from '../../store/location';
import { Store } from '../../store/store';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

const usage = 'tsuzuki import FILE [--db FILE]   (FILE: .txt in UTF-8, UTF-16, Shift_JIS or EUC-JP, .md, or .docx)';

export const importCommand: Command = {
  name: 'import',
  summary: 'Make a new document of a text (UTF-8, Shift_JIS, EUC-JP) or .docx file; prints its id and title',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, { db: { type: 'string', default: defaultDatabasePath() } });
    if (positionals.length !== 1) throw new TsuzukiError('invalid_argument', `import takes one file\nUsage: ${usage}`);
    const file = positionals[0]!;
    // The size is checked before the file is read.
    const size = statSync(file).size;
    if (size > MAX_IMPORT_BYTES) throw new TsuzukiError('invalid_argument', `${file} is ${Math.ceil(size / 1024 / 1024)} MB; at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB can be imported. Split it into parts and import each.`);
    const bytes = readFileSync(file);
    const store = await Store.open(values.db, { create: true });
    try {
      const doc = await new ManuscriptsService(store).import(file, bytes);
      process.stdout.write(`${doc.id}\t${doc.title}\n`);
      return 0;
    } finally {
      store.close();
    }
  },
};
