/**
 * A document as Word's .docx, written with the `docx` library (maintained, typed, no native parts; it writes the
 * package and every part Word needs). Vertical writing is the section's text direction tbRl (縦書き). `docx` has no
 * ruby: each ruby is Word's own w:ruby (rubyPr, rt, rubyBase), built as XML elements inside a run, the way Word
 * writes ルビ. The model's text, when kept, carries the character style "MachineText" (a dotted underline). docx
 * escapes the text but passes control characters through, which Word refuses: they become U+FFFD.
 */
import { Document, HeadingLevel, ImportedXmlComponent, Packer, PageTextDirectionType, Paragraph, TextRun, UnderlineType } from 'docx';
import type { Manuscript, Piece } from './manuscript';
import { xmlCharacters } from './xml';

export interface DocxOptions {
  ruby: 'markup' | 'strip';
  vertical: boolean;
  marks: boolean;
}

const MACHINE_STYLE = 'MachineText';
/** Word's defaults for 10.5 pt text: ruby at 5 pt, raised 9 pt (all in half-points). */
const BASE_HALF_POINTS = 21;
const RUBY_HALF_POINTS = 10;
const RUBY_RAISE = 18;

function element(name: string, attributes?: Record<string, string | number>, children: (ImportedXmlComponent | string)[] = []): ImportedXmlComponent {
  const component = new ImportedXmlComponent(name, attributes);
  for (const child of children) component.push(child);
  return component;
}

/** One run of text inside rt or rubyBase (docx escapes the text when it writes the XML). */
function innerRun(text: string, halfPoints: number, machine: boolean): ImportedXmlComponent {
  const properties = [element('w:sz', { 'w:val': halfPoints }), element('w:szCs', { 'w:val': halfPoints })];
  if (machine) properties.unshift(element('w:rStyle', { 'w:val': MACHINE_STYLE }));
  return element('w:r', undefined, [element('w:rPr', undefined, properties), element('w:t', { 'xml:space': 'preserve' }, [xmlCharacters(text)])]);
}

/** A run holding Word's w:ruby; TextRun's run properties come first, as the schema wants. */
class RubyRun extends TextRun {
  constructor(base: string, ruby: string, machine: boolean) {
    super({});
    const properties = element('w:rubyPr', undefined, [
      element('w:rubyAlign', { 'w:val': 'distributeSpace' }),
      element('w:hps', { 'w:val': RUBY_HALF_POINTS }),
      element('w:hpsRaise', { 'w:val': RUBY_RAISE }),
      element('w:hpsBaseText', { 'w:val': BASE_HALF_POINTS }),
      element('w:lid', { 'w:val': 'ja-JP' }),
    ]);
    this.root.push(
      element('w:ruby', undefined, [
        properties,
        element('w:rt', undefined, [innerRun(ruby, RUBY_HALF_POINTS, machine)]),
        element('w:rubyBase', undefined, [innerRun(base, BASE_HALF_POINTS, machine)]),
      ]),
    );
  }
}

function run(p: Piece, options: DocxOptions): TextRun {
  const machine = options.marks && p.machine;
  if ('text' in p || options.ruby === 'strip') return new TextRun({ text: xmlCharacters('text' in p ? p.text : p.base), style: machine ? MACHINE_STYLE : undefined });
  return new RubyRun(p.base, p.ruby, machine);
}

export async function exportDocx(m: Manuscript, options: DocxOptions): Promise<Uint8Array> {
  const doc = new Document({
    title: m.title,
    styles: {
      default: { document: { run: { size: BASE_HALF_POINTS, font: { eastAsia: 'Yu Mincho' } } } },
      characterStyles: [{ id: MACHINE_STYLE, name: 'Machine Text', run: { underline: { type: UnderlineType.DOTTED, color: '9A9A9A' } } }],
    },
    sections: [
      {
        properties: options.vertical ? { page: { textDirection: PageTextDirectionType.TOP_TO_BOTTOM_RIGHT_TO_LEFT } } : {},
        children: [
          new Paragraph({ heading: HeadingLevel.TITLE, children: [new TextRun(xmlCharacters(m.title))] }),
          ...m.lines.map((line) => new Paragraph({ children: line.map((p) => run(p, options)) })),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}
