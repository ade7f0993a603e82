/**
 * The document model: paragraphs of plain text, one per line of the stored text. The only mark is `generated`,
 * which remembers which text came from the model (for the model/writer share), never shown as formatting.
 */
import { Schema, type Mark, type Node } from 'prosemirror-model';
import type { Transaction } from 'prosemirror-state';

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
      // `id`: the history entry the text came from, once known; `key`: links a fresh acceptance to it meanwhile.
      attrs: { id: { default: null }, key: { default: null } },
      inclusive: false,
      parseDOM: [{ tag: 'span.generated' }],
      toDOM: () => ['span', { class: 'generated' }, 0],
    },
  },
});

/** [from, to) in the stored text, with the history entry it came from when known. */
export type Range = readonly [from: number, to: number] | readonly [from: number, to: number, generationId: number];

/** Builds a document from stored text; `generated` ranges are offsets into that text. */
export function textToDoc(text: string, generated: readonly Range[] = []): Node {
  const paragraphs: Node[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    const end = start + line.length;
    const pieces: Node[] = [];
    let cursor = start;
    for (const [from, to, id] of generated) {
      const a = Math.max(from, start, cursor);
      const b = Math.min(to, end);
      if (a >= b) continue;
      if (a > cursor) pieces.push(schema.text(text.slice(cursor, a)));
      pieces.push(schema.text(text.slice(a, b), [schema.marks.generated!.create({ id: id ?? null })]));
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
  const generated: (readonly [number, number] | readonly [number, number, number])[] = [];
  let offset = 0;
  doc.forEach((paragraph, _pos, index) => {
    if (index > 0) {
      parts.push('\n');
      offset += 1;
    }
    paragraph.forEach((child) => {
      const text = child.text ?? '';
      const mark = child.marks.find((m) => m.type === schema.marks.generated);
      if (mark) {
        const id = (mark.attrs.id as number | null) ?? undefined;
        const last = generated.at(-1);
        if (last && last[1] === offset && last[2] === id) generated[generated.length - 1] = id === undefined ? [last[0], offset + text.length] : [last[0], offset + text.length, id];
        else generated.push(id === undefined ? [offset, offset + text.length] : [offset, offset + text.length, id]);
      }
      parts.push(text);
      offset += text.length;
    });
  });
  return { text: parts.join(''), generated };
}

/** History entries whose accepted text a transaction changes (typing inside it, deleting part of it). */
export function editedGenerations(before: Node, changes: readonly (readonly [from: number, to: number])[]): Set<number> {
  const ids = new Set<number>();
  for (const [from, to] of changes) {
    before.nodesBetween(Math.max(0, from - 1), Math.min(before.content.size, to + 1), (node, pos) => {
      if (!node.isText) return true;
      const id = node.marks.find((m) => m.type === schema.marks.generated)?.attrs.id as number | null | undefined;
      const start = pos;
      const end = pos + node.nodeSize;
      // Inside the text or overlapping it; typing right before or after it does not count.
      const touches = from === to ? from > start && from < end : from < end && to > start;
      if (id != null && touches) ids.add(id);
      return false;
    });
  }
  return ids;
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

/**
 * Inserts `text` at `pos` as the editor holds it: each line break splits the paragraph. With `marks`, the text
 * carries exactly those; without, it takes the marks where it lands, as typing does. Returns the position after it.
 */
export function insertLines(tr: Transaction, pos: number, text: string, marks?: readonly Mark[]): number {
  let at = pos;
  text.split('\n').forEach((line, i) => {
    if (i > 0) {
      tr.split(at);
      at += 2;
    }
    if (line) {
      if (marks) tr.insert(at, schema.text(line, marks));
      else tr.insertText(line, at);
      at += line.length;
    }
  });
  return at;
}
