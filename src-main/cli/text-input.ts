/**
 * The text a command works on: an argument, standard input (`-`), or a file. Long text must come by file or
 * standard input: one argument holds at most 128 KiB on Linux, and a model refuses to load under a long command line
 * (see engine/command-line.ts).
 */
import { createReadStream } from 'node:fs';
import { TsuzukiError } from '../contract/errors';

/** The app's longest text (5,000,000 characters) at UTF-8's widest, 4 bytes a character; checked while reading. */
const MAX_TEXT_BYTES = 20_000_000;

export interface TextSource {
  /** The positional argument: the text itself, or `-` for standard input. */
  argument: string | undefined;
  /** The file option's value and its name (`prompt-file`). */
  file: string | undefined;
  fileOption: string;
  /** What the text is, in messages (`prompt`). */
  what: string;
  usage: string;
}

/** The text from exactly one of the argument, `-` (standard input) or the file option. */
export async function readTextInput(source: TextSource): Promise<string> {
  const { argument, file, what, usage } = source;
  if ((argument === undefined) === (file === undefined)) {
    throw new TsuzukiError(
      'invalid_argument',
      `Give the ${what} once: as an argument (quoted), as - to read standard input, or with --${source.fileOption} FILE.\nUsage: ${usage}`,
    );
  }
  if (file !== undefined) return readBounded(createReadStream(file), file);
  return argument === '-' ? readBounded(process.stdin, 'standard input') : argument!;
}

async function readBounded(stream: NodeJS.ReadableStream, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buffer.length;
      if (size > MAX_TEXT_BYTES) {
        throw new TsuzukiError('invalid_argument', `${name} holds more than ${MAX_TEXT_BYTES.toLocaleString('en')} bytes, more text than a document can hold; give a shorter text.`);
      }
      chunks.push(buffer);
    }
  } catch (cause) {
    if (cause instanceof TsuzukiError) throw cause;
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TsuzukiError(missing ? 'not_found' : 'invalid_argument', `Cannot read ${name}: ${(cause as Error).message}`, { cause });
  }
  try {
    // fatal: a binary file is refused, not turned into replacement characters; a byte order mark is dropped.
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (cause) {
    throw new TsuzukiError('invalid_argument', `${name} is not UTF-8 text; save it as UTF-8 and try again.`, { cause });
  }
}
