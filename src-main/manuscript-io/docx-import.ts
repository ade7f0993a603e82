/**
 * The text of a .docx file, read by `mammoth` (maintained; reads Word's paragraphs and runs into plain text). A .docx
 * is a ZIP: a hostile one can declare small sizes and inflate to gigabytes (a zip bomb), and mammoth inflates every
 * part it reads in full. So fflate inflates the file's XML parts first, counting every byte it produces and stopping
 * at a bound, and mammoth reads a ZIP made again of those parts only. Word's ruby (w:ruby), which mammoth drops,
 * becomes ｜base《ruby》 notation first, and a first paragraph in Word's Title style the document's title.
 */
import { Unzip, UnzipInflate, zipSync, type Zippable } from 'fflate';
import mammoth from 'mammoth';
import { TsuzukiError } from '../contract/errors';

/** What the XML parts of a .docx may inflate to together: a long novel's document.xml is ~30 MB. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
/** Fed to the inflater this much at a time, so one push cannot produce more than ~1,000× as much before it is counted. */
const CHUNK = 16 * 1024;
/** The parts mammoth reads: XML and relationships (images and other media are not text). */
const TEXT_PART = /^(\[Content_Types\]\.xml|(_rels|word(\/_rels)?)\/[^/]*\.(xml|rels))$/;

function notDocx(name: string, why: string): TsuzukiError {
  return new TsuzukiError('unsupported', `${name} cannot be read as a Word (.docx) file: ${why}. Open it in Word and save it as .docx again, or import its text as .txt.`);
}

function inflateTextParts(bytes: Uint8Array, name: string): Zippable {
  const parts: Record<string, Uint8Array[]> = {};
  let total = 0;
  let failure: TsuzukiError | null = null;
  const unzip = new Unzip((file) => {
    if (!TEXT_PART.test(file.name) || file.name in parts) return;
    const chunks: Uint8Array[] = (parts[file.name] = []);
    file.ondata = (error, chunk) => {
      if (failure) return;
      if (error) {
        failure = notDocx(name, `its part ${file.name} is damaged (${error.message})`);
        return;
      }
      total += chunk.length;
      if (total > MAX_INFLATED_BYTES) {
        failure = notDocx(name, `its text parts inflate to more than ${MAX_INFLATED_BYTES / 1024 / 1024} MB`);
        file.terminate();
        return;
      }
      chunks.push(chunk);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < bytes.length && !failure; at += CHUNK) unzip.push(bytes.subarray(at, at + CHUNK), at + CHUNK >= bytes.length);
  } catch (error) {
    throw notDocx(name, `it is not a valid ZIP file (${(error as Error).message})`);
  }
  if (failure) throw failure;
  if (!parts['word/document.xml']) throw notDocx(name, 'it has no word/document.xml');
  return Object.fromEntries(Object.entries(parts).map(([part, chunks]) => [part, concat(chunks)]));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The escaped text of the w:t elements in an XML fragment (kept escaped: it goes back into XML). */
function runText(xml: string): string {
  return [...xml.matchAll(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join('');
}

/** Each w:ruby (inside its run) becomes a text node in the notation the editor reads. */
function rubyAsNotation(documentXml: string): string {
  return documentXml.replace(/<w:ruby>([\s\S]*?)<\/w:ruby>/g, (_, inner: string) => {
    const rt = runText(/<w:rt>([\s\S]*?)<\/w:rt>/.exec(inner)?.[1] ?? '');
    const base = runText(/<w:rubyBase>([\s\S]*?)<\/w:rubyBase>/.exec(inner)?.[1] ?? '');
    return `<w:t xml:space="preserve">${rt ? `｜${base}《${rt}》` : base}</w:t>`;
  });
}

/** A first paragraph in Word's Title style is the document's title (as the .docx export writes it), not its text. */
function takeTitle(documentXml: string): { xml: string; title: string | null } {
  const first = /<w:body>(<w:p\b(?:(?!<\/w:p>)[\s\S])*<\/w:p>)/.exec(documentXml);
  if (!first || !/<w:pStyle w:val="Title"\/>/.test(first[1]!)) return { xml: documentXml, title: null };
  const title = unescapeXml(runText(first[1]!)).trim();
  return { xml: documentXml.replace(first[1]!, ''), title: title || null };
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (entity, name: string) => {
    if (name[0] === '#') return String.fromCodePoint(Number.parseInt(name[1] === 'x' ? name.slice(2) : name.slice(1), name[1] === 'x' ? 16 : 10));
    return { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }[name] ?? entity;
  });
}

/**
 * The document's paragraphs, one line each, its title when it has one, and whether its (first) section is laid out
 * vertically (text direction tbRl, Word's 縦書き).
 */
export async function docxText(bytes: Uint8Array, name: string): Promise<{ title: string | null; text: string; vertical: boolean }> {
  const parts = inflateTextParts(bytes, name);
  const { xml, title } = takeTitle(rubyAsNotation(new TextDecoder().decode(parts['word/document.xml'] as Uint8Array)));
  const vertical = /<w:sectPr\b(?:(?!<\/w:sectPr>)[\s\S])*<w:textDirection w:val="tbRl"\/>/.test(xml);
  parts['word/document.xml'] = new TextEncoder().encode(xml);
  let raw: string;
  try {
    raw = (await mammoth.extractRawText({ buffer: Buffer.from(zipSync(parts, { level: 0 })) })).value;
  } catch (error) {
    throw notDocx(name, (error as Error).message);
  }
  // mammoth ends every paragraph with a blank line.
  return { title, vertical, text: raw.replace(/\n\n$/, '').split('\n\n').join('\n') };
}
