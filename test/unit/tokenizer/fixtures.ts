import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const FIXTURES = fileURLToPath(new URL('../../fixtures/tokenizer/', import.meta.url));
export const MODELS = ['nfkc', 'identity', 'bytefb', 'userdef', 'nodummy', 'ctlnl', 'denorm', 'suffix'] as const;
export const modelPath = (name: string) => `${FIXTURES}${name}.model`;

export function readJsonl<T>(name: string): T[] {
  const text = gunzipSync(readFileSync(`${FIXTURES}${name}`)).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** [ids, decoded text or 0 (= the input), [[index, piece], …] where a piece is not its id's vocabulary entry] */
export type Golden = [number[], string | 0, [number, string][]?];

/** The inputs in golden order: cases, fuzz, then malformed UTF-8 as bytes. */
export function inputs(): { cases: string[]; fuzz: string[]; bytes: Uint8Array[] } {
  return {
    cases: readJsonl<string>('cases.jsonl.gz'),
    fuzz: readJsonl<string>('fuzz.jsonl.gz'),
    bytes: readJsonl<string>('bytes.jsonl.gz').map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
  };
}
