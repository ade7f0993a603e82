/**
 * onnxruntime 1.30 on Linux reads /proc/self/cmdline when it creates its first session and matches it with a
 * std::regex, whose matcher recurses once per character (about 280 bytes of stack each): a command line of about
 * 28 KB overflows an 8 MB main-thread stack, 14 KB a worker thread's 4 MB, and the process dies with SIGSEGV
 * (a 30,000-character prompt argument did). No session is created under a command line longer than the bound.
 */
import { readFileSync } from 'node:fs';
import { TsuzukiError } from '../contract/errors';

/** Half of what a worker thread's stack survives. */
export const MAX_COMMAND_LINE_BYTES = 8 * 1024;

/** Throws when the process's command line is too long for onnxruntime; `read` gives the command line's bytes. */
export function checkCommandLine(read: () => Buffer | null = ownCommandLine): void {
  const bytes = read()?.length ?? 0;
  if (bytes > MAX_COMMAND_LINE_BYTES) {
    throw new TsuzukiError(
      'invalid_argument',
      `The command line is ${bytes.toLocaleString('en')} bytes long; no model loads under one longer than ${MAX_COMMAND_LINE_BYTES.toLocaleString('en')} bytes ` +
        '(onnxruntime would crash). Give long text in a file or on standard input instead.',
    );
  }
}

function ownCommandLine(): Buffer | null {
  if (process.platform !== 'linux') return null;
  try {
    return readFileSync('/proc/self/cmdline');
  } catch {
    return null;
  }
}
