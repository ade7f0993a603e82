import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TsuzukiError } from '../util/errors';

/** node:util's parseArgs, with its errors turned into usage errors that name the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TsuzukiError('invalid_argument', `${message}\nUsage: ${usage}`);
  }
}
