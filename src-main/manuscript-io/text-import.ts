/**
 * Plain text in whatever encoding a Japanese writer's file has: UTF-8 (with or without a byte order mark), UTF-16
 * with its mark, Shift_JIS (Windows' cp932), EUC-JP or ISO-2022-JP. UTF-8 is tried first and strictly; otherwise
 * `encoding-japanese` (maintained, pure JS, made for telling Japanese encodings apart) names the encoding and
 * TextDecoder decodes it with `fatal`, so a byte that is not in it is an error, never a silently wrong character.
 */
import Encoding from 'encoding-japanese';
import { TsuzukiError } from '../contract/errors';

const DECODERS: Record<string, string> = { SJIS: 'shift_jis', EUCJP: 'euc-jp', JIS: 'iso-2022-jp' };

function decode(bytes: Uint8Array, encoding: string): string | null {
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/** The encoding a byte order mark names, if the file starts with one. */
function markedEncoding(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return null;
}

/** The file's text with its line ends made LF; `name` is only for the message. */
export function decodeText(bytes: Uint8Array, name: string): string {
  const marked = markedEncoding(bytes);
  let text = decode(bytes, marked ?? 'utf-8');
  if (text === null && marked === null) {
    // Its own order of checks: given a list, it answers the first encoding the bytes fit, and EUC-JP fits Shift_JIS's.
    const detected = Encoding.detect(bytes);
    if (detected && DECODERS[detected]) text = decode(bytes, DECODERS[detected]);
  }
  if (text === null) {
    throw new TsuzukiError('unsupported', `${name} is not text in UTF-8, UTF-16, Shift_JIS or EUC-JP (it has bytes none of them allow). Save it as UTF-8 text and import it again.`);
  }
  if (text.includes('\u0000')) throw new TsuzukiError('unsupported', `${name} is not a text file (it holds binary data). Import a .txt, .md or .docx file.`);
  return text.replace(/\r\n?/g, '\n');
}
