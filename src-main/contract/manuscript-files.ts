/**
 * A document as a manuscript file, out and in: the formats, the ruby notations and the bounds of an import, shared by
 * the IPC contract (documents.export / documents.import), the CLI and the exporters.
 */
import { z } from 'zod';

export const EXPORT_FORMATS = ['txt', 'md', 'epub', 'docx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * How ruby is written: 青空文庫's ｜漢字《かんじ》, なろう/カクヨム's |漢字《かんじ》 (each with its own escapes), stripped
 * to the base text, or as the format's own ruby (`markup`: <ruby> in Markdown and EPUB, w:ruby in .docx).
 */
const RUBY_STYLES = ['aozora', 'narou', 'strip', 'markup'] as const;
export type RubyStyle = (typeof RUBY_STYLES)[number];

/** The ruby styles each format can write; the first is its default. */
export const RUBY_STYLES_OF = {
  txt: ['aozora', 'narou', 'strip'],
  md: ['markup', 'aozora', 'narou', 'strip'],
  epub: ['markup', 'strip'],
  docx: ['markup', 'strip'],
} as const satisfies Record<ExportFormat, readonly RubyStyle[]>;

export const exportOptionsSchema = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    /** Absent: the format's default (RUBY_STYLES_OF). */
    ruby: z.enum(RUBY_STYLES).optional(),
    /** Plain text only: a UTF-8 byte order mark (some Windows editors want one) and the line ends. */
    bom: z.boolean().default(false),
    newline: z.enum(['lf', 'crlf']).default('lf'),
    /** EPUB and .docx: vertical writing (縦書き). Absent: the document's writing mode. */
    vertical: z.boolean().optional(),
    /** Markdown, EPUB and .docx: keep the mark on text the model wrote (plain text has no way to mark it). */
    marks: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.ruby === undefined || (RUBY_STYLES_OF[o.format] as readonly RubyStyle[]).includes(o.ruby), {
    message: 'This format cannot write ruby that way: plain text takes aozora, narou or strip; EPUB and .docx take markup or strip.',
    path: ['ruby'],
  });
export type ExportOptions = z.output<typeof exportOptionsSchema>;

/** The largest file an import reads: a long novel in UTF-8 is ~15 MB. */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;
/** Base64 of MAX_IMPORT_BYTES. */
export const MAX_IMPORT_BASE64 = Math.ceil(MAX_IMPORT_BYTES / 3) * 4;
