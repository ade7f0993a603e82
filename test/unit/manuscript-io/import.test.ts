import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_IMPORT_BYTES } from '../../../src-main/contract/manuscript-files';
import { importManuscript } from '../../../src-main/manuscript-io/import';

const fixtures = join(__dirname, '../../fixtures/manuscript');
const TEXT = '吾輩は猫《ねこ》である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。\n';

describe('manuscript import', () => {
  it('reads Shift_JIS, EUC-JP and UTF-8 with a byte order mark and CRLF (files made by iconv), titled by the file name', async () => {
    for (const file of ['sjis.txt', 'eucjp.txt', 'utf8-bom-crlf.txt']) {
      const bytes = readFileSync(join(fixtures, file));
      expect(await importManuscript(`/home/writer/原稿/${file}`, bytes)).toEqual({ title: file.replace('.txt', ''), body: TEXT, writingMode: 'horizontal' });
    }
  });

  it('reads UTF-8 without a mark, and UTF-16 with one', async () => {
    expect((await importManuscript('a.md', new TextEncoder().encode('# 題\r本文'))).body).toBe('# 題\n本文');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('縦書き', 'utf16le')]);
    expect((await importManuscript('C:\\Users\\w\\b.txt', utf16))).toEqual({ title: 'b', body: '縦書き', writingMode: 'horizontal' });
  });

  it('refuses bytes that no Japanese encoding allows, and binary files, saying what to do', async () => {
    await expect(importManuscript('bad.txt', Uint8Array.from([0x82, 0xa0, 0xff, 0xfe, 0x80, 0x81, 0xfd]))).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/^bad\.txt is not text in UTF-8, UTF-16, Shift_JIS or EUC-JP .* Save it as UTF-8 text and import it again\.$/),
    });
    await expect(importManuscript('image.txt', Uint8Array.from([0x41, 0x00, 0x42]))).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('not a text file') });
  });

  it('refuses a file over the bound before reading it', async () => {
    await expect(importManuscript('big.txt', new Uint8Array(MAX_IMPORT_BYTES + 1))).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('at most 20 MB') });
  });
});
