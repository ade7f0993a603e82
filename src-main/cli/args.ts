import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TsuzukiError } from '../contract/errors';

/** node:util's parseArgs, with its errors turned into usage errors that name the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: joinNegativeNumbers(args, options), allowPositionals, options, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TsuzukiError('invalid_argument', `${message}\nUsage: ${usage}`);
  }
}

/**
 * parseArgs reads `--temperature -1` as an option followed by another option and fails with a message about
 * ambiguity; joining it into `--temperature=-1` lets the command's own validation say what is wrong with -1.
 */
function joinNegativeNumbers(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [...joined, ...args.slice(i)];
    const next = args[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}
