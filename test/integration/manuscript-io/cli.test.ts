import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import mammoth from 'mammoth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../src-main/store/store';
import { repoRoot } from '../store/spawn';

function tsuzuki(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin/tsuzuki.js'), ...args], { cwd: repoRoot }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let db: string;
let id: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsuzuki-manuscript-cli-'));
  db = join(dir, 'tsuzuki.db');
  const store = await Store.open(db);
  id = store.documents.create({ title: '吾輩は猫である', body: '吾輩は猫《ねこ》である。\n名前はまだ無い。', writingMode: 'vertical' }).id;
  store.documents.create({ title: '同名', body: 'a' });
  store.documents.create({ title: '同名', body: 'b' });
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsuzuki export', { timeout: 180_000 }, () => {
  it('writes plain text with each ruby notation, finding the document by title or id', async () => {
    const out = join(dir, 'neko.txt');
    expect(await tsuzuki('export', '吾輩は猫である', '--format', 'txt', out, '--db', db)).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe('吾輩は｜猫《ねこ》である。\n名前はまだ無い。');
    expect((await tsuzuki('export', String(id), '--format', 'txt', '--ruby', 'narou', '--crlf', '-', '--db', db)).stdout).toBe('吾輩は|猫《ねこ》である。\r\n名前はまだ無い。');
    expect((await tsuzuki('export', String(id), '--format', 'txt', '--ruby', 'strip', '--bom', '-', '--db', db)).stdout).toBe('\ufeff吾輩は猫である。\n名前はまだ無い。');
  });

  it('writes EPUB in the document\'s vertical writing and .docx that mammoth reads', async () => {
    const epub = join(dir, 'neko.epub');
    expect((await tsuzuki('export', String(id), '--format', 'epub', epub, '--db', db)).code).toBe(0);
    const files = unzipSync(readFileSync(epub));
    expect(strFromU8(files['OEBPS/style.css']!)).toContain('-epub-writing-mode: vertical-rl;');
    expect(strFromU8(files['OEBPS/text.xhtml']!)).toContain('<ruby>猫<rp>（</rp><rt>ねこ</rt><rp>）</rp></ruby>');
    const docx = join(dir, 'neko.docx');
    expect((await tsuzuki('export', String(id), '--format', 'docx', '--horizontal', docx, '--db', db)).code).toBe(0);
    expect((await mammoth.extractRawText({ path: docx })).value).toContain('名前はまだ無い。');
    expect(strFromU8(unzipSync(readFileSync(docx))['word/document.xml']!)).not.toContain('tbRl');
  });

  it('ends with the usage status for a bad option and the not-found status for an unknown document', async () => {
    const out = join(dir, 'x.txt');
    expect(await tsuzuki('export', String(id), '--format', 'pdf', out, '--db', db)).toMatchObject({ code: 2, stderr: expect.stringContaining('--format must be txt, md, epub, docx, got pdf') });
    expect(await tsuzuki('export', String(id), '--format', 'epub', '--ruby', 'aozora', out, '--db', db)).toMatchObject({ code: 2, stderr: expect.stringContaining('--ruby for epub must be strip') });
    expect(await tsuzuki('export', '同名', '--format', 'txt', out, '--db', db)).toMatchObject({ code: 2, stderr: expect.stringContaining('2 documents are titled "同名"') });
    expect(await tsuzuki('export', '無い題', '--format', 'txt', out, '--db', db)).toMatchObject({ code: 3, stderr: expect.stringContaining('No document is titled "無い題"') });
  });
});

describe('tsuzuki import', { timeout: 180_000 }, () => {
  it('makes a new document of a Shift_JIS file and of an exported .docx, and refuses a file that is not text', async () => {
    const sjis = join(dir, '猫.txt');
    copyFileSync(join(repoRoot, 'test/fixtures/manuscript/sjis.txt'), sjis);
    const text = await tsuzuki('import', sjis, '--db', db);
    expect(text).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\t猫\n$/) });
    const docx = join(dir, 'neko.docx');
    const fromDocx = await tsuzuki('import', docx, '--db', db);
    expect(fromDocx).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\t吾輩は猫である\n$/) });
    const store = await Store.open(db);
    try {
      expect(store.documents.get(Number(text.stdout.split('\t')[0])).body).toBe('吾輩は猫《ねこ》である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。\n');
      expect(store.documents.get(Number(fromDocx.stdout.split('\t')[0])).body).toBe('吾輩は｜猫《ねこ》である。\n名前はまだ無い。');
    } finally {
      store.close();
    }
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Uint8Array.from([0x82, 0xa0, 0xff, 0xfe, 0x80]));
    expect(await tsuzuki('import', bad, '--db', db)).toMatchObject({ code: 3, stderr: expect.stringContaining('Save it as UTF-8 text and import it again.') });
  });
});
