/**
 * A document as every exporter reads it: its lines (each a paragraph, as Japanese prose is written), each cut into
 * plain text and ruby, each piece marked when the model wrote it.
 */
import { machineSegments, type MarkedRange } from '../manuscript/machine-text';
import { parseRuby } from '../manuscript/ruby';

export type Piece = { text: string; machine: boolean } | { base: string; ruby: string; machine: boolean };

export interface Manuscript {
  title: string;
  lines: Piece[][];
}

export function toManuscript(doc: { title: string; body: string; generatedRanges: readonly MarkedRange[] }): Manuscript {
  const lines: Piece[][] = [[]];
  // machineSegments never cuts a ruby's notation, so each run parses as ruby on its own.
  for (const run of machineSegments(doc.body, doc.generatedRanges)) {
    run.text.split('\n').forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part) lines[lines.length - 1]!.push(...parseRuby(part).map((s) => ({ ...s, machine: run.machine })));
    });
  }
  return { title: doc.title, lines };
}

/** The text as a reader sees it, without readings. */
export function plainText(piece: Piece): string {
  return 'text' in piece ? piece.text : piece.base;
}
