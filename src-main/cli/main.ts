import { toErrorInfo } from '../contract/errors';
import type { Command } from './command';
import { exitStatusHelp, exitStatusOf } from './exit-status';
import { bench } from './commands/bench';
import { convert } from './commands/convert';
import { db } from './commands/db';
import { detokenize } from './commands/detokenize';
import { download } from './commands/download';
import { evaluate } from './commands/eval';
import { exportCommand } from './commands/export';
import { generate } from './commands/generate';
import { history } from './commands/history';
import { importCommand } from './commands/import';
import { info } from './commands/info';
import { logits } from './commands/logits';
import { models } from './commands/models';
import { serve } from './commands/serve';
import { tokenize } from './commands/tokenize';
import { version } from './commands/version';

// Each command lives in ./commands/<name>.ts; this list is the CLI's table of contents.
const commands: Command[] = [version, info, serve, convert, logits, history, exportCommand, importCommand, db, tokenize, detokenize, download, models, generate, evaluate, bench];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'tsuzuki — 続き: continue Japanese prose with a local language model',
    '',
    'Usage: tsuzuki <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tsuzuki <command> --help` for the options of a command.',
    '',
    exitStatusHelp(),
  ].join('\n');
}

/**
 * A reader that stops early (`tsuzuki tokenize … | head`) closes the pipe: the output is no longer wanted, which is
 * the reader's choice, not a failure to report with a stack. Other write errors still end the process as errors.
 */
function endQuietlyWhenOutputIsClosed(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenOutputIsClosed();
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(help() + '\n');
    return first === undefined ? 2 : 0;
  }
  const name = first === '--version' || first === '-V' ? 'version' : first;
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`tsuzuki: unknown command "${first}"\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const info = toErrorInfo(error);
    process.stderr.write(`tsuzuki ${command.name}: ${info.message}\n`);
    if (info.detail) {
      process.stderr.write(process.env.TSUZUKI_DEBUG ? `${info.detail}\n` : 'This was unexpected: run again with TSUZUKI_DEBUG=1 to see where it happened, and report it.\n');
    }
    return exitStatusOf(error);
  }
}
