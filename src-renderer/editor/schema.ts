/**
 * The document model: paragraphs of plain text, one per line of the stored text. The only mark is `generated`,
 * which remembers which text came from the model (for the model/writer share), never shown as formatting.
 */
import { Schema, type Node } from 'prosemirror-model';

export const schema = new Schema({
  nodes: {
    doc: { content: 'paragraph+' },
    paragraph: {
      content: 'text*',
      parseDOM: [{ tag: 'p' }, { tag: 'div' }],
      toDOM: () => ['p', 0],
    },
    text: {},
  },
  marks: {
    generated: {
      inclusive: false,
      parseDOM: [{ tag: 'span.generated' }],
      toDOM: () => ['span', { class: 'generated' }, 0],
    },
  },
});

export type Range = readonly [from: number, to: number];

/** Builds a document from stored text; `generated` ranges are offsets into that text. */
export function textToDoc(text: string, generated: readonly Range[] = []): Node {
  const paragraphs: Node[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    const end = start + line.length;
    const pieces: Node[] = [];
    let cursor = start;
    for (const [from, to] of generated) {
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      if (a >= b) continue;
      if (a > cursor) pieces.push(schema.text(text.slice(cursor, a)));
      pieces.push(schema.text(text.slice(a, b), [schema.marks.generated!.create()]));
      cursor = b;
    }
    if (cursor < end) pieces.push(schema.text(text.slice(cursor, end)));
    paragraphs.push(schema.nodes.paragraph!.create(null, pieces));
    offset = end + 1;
  }
  return schema.nodes.doc!.create(null, paragraphs);
}

/** The stored form: paragraphs joined by '\n', and the offsets of generated text. */
export function docToText(doc: Node): { text: string; generated: Range[] } {
  const parts: string[] = [];
  const generated: Range[] = [];
  let offset = 0;
  doc.forEach((paragraph, _pos, index) => {
    if (index > 0) {
      parts.push('\n');
      offset += 1;
    }
    paragraph.forEach((child) => {
      const text = child.text ?? '';
      if (child.marks.some((m) => m.type === schema.marks.generated)) {
        const last = generated.at(-1);
        if (last && last[1] === offset) generated[generated.length - 1] = [last[0], offset + text.length];
        else generated.push([offset, offset + text.length]);
      }
      parts.push(text);
      offset += text.length;
    });
  });
  return { text: parts.join(''), generated };
}

/** Text offset of a document position (paragraph boundaries count as one '\n'). */
export function posToOffset(doc: Node, pos: number): number {
  let offset = 0;
  let result = 0;
  doc.forEach((paragraph, start, index) => {
    if (index > 0) offset += 1;
    const inner = start + 1;
    if (pos >= start && pos <= start + paragraph.nodeSize) {
      result = offset + Math.min(Math.max(pos - inner, 0), paragraph.content.size);
    }
    offset += paragraph.content.size;
  });
  return result;
}

/** Document position of a text offset. */
export function offsetToPos(doc: Node, target: number): number {
  let offset = 0;
  let result = doc.content.size - 1;
  let found = false;
  doc.forEach((paragraph, start, index) => {
    if (found) return;
    if (index > 0) offset += 1;
    if (target <= offset + paragraph.content.size) {
      result = start + 1 + Math.max(0, target - offset);
      found = true;
    }
    offset += paragraph.content.size;
  });
  return result;
}
