/** A manuscript file into a new document's title, text and writing mode: a .docx (any ZIP is tried as one) or plain text. */
import { MAX_IMPORT_BYTES } from '../contract/manuscript-files';
import { TsuzukiError } from '../contract/errors';
import { docxText } from './docx-import';
import { decodeText } from './text-import';

/** The most characters a document holds (the contract's bound on a body). */
const MAX_CHARS = 5_000_000;
const MAX_TITLE_CHARS = 200;

/** The file's name without its folder or extension; the file name alone when that leaves nothing. */
function titleOf(name: string): string {
  const file = name.split(/[\\/]/).pop() ?? '';
  const stem = file.replace(/\.[^.]*$/, '').trim() || file.trim();
  return Array.from(stem).slice(0, MAX_TITLE_CHARS).join('');
}

export async function importManuscript(name: string, bytes: Uint8Array): Promise<{ title: string; body: string; writingMode: 'horizontal' | 'vertical' }> {
  if (bytes.length > MAX_IMPORT_BYTES) {
    throw new TsuzukiError('invalid_argument', `${name} is ${Math.ceil(bytes.length / 1024 / 1024)} MB; at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB can be imported. Split it into parts and import each.`);
  }
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const { title, text: body, vertical } = zip ? await docxText(bytes, name) : { title: null, text: decodeText(bytes, name), vertical: false };
  if (body.length > MAX_CHARS) {
    throw new TsuzukiError('invalid_argument', `${name} has ${body.length.toLocaleString('en')} characters; a document holds at most ${MAX_CHARS.toLocaleString('en')}. Split it into parts and import each.`);
  }
  return { title: title ? Array.from(title).slice(0, MAX_TITLE_CHARS).join('') : titleOf(name), body, writingMode: vertical ? 'vertical' : 'horizontal' };
}
