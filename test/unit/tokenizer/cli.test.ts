import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inputs, modelPath, readJsonl, type Golden } from './fixtures';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const tsuzuki = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['bin/tsuzuki.js', ...args], { cwd: ROOT, input, encoding: 'utf8' });

const { cases } = inputs();
const goldens = readJsonl<Golden>('nfkc.golden.jsonl.gz');
const model = modelPath('nfkc');

describe('tsuzuki tokenize / detokenize', () => {
  it('tokenize TEXT prints ids and pieces as JSON', () => {
    const i = cases.findIndex((c) => c.includes('。') && c.length > 20 && c.length < 200);
    const r = tsuzuki(['tokenize', '--tokenizer', model, cases[i]!]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { ids: number[]; pieces: string[] };
    expect(out.ids).toEqual(goldens[i]![0]);
    expect(out.pieces).toHaveLength(out.ids.length);
    expect(out.pieces.join('').replaceAll('▁', ' ').trim()).toBe(goldens[i]![1] === 0 ? cases[i] : goldens[i]![1]);
  });

  it('tokenize --lines prints one ids array per stdin line, in order', () => {
    const lines = cases.slice(0, 200).filter((c) => !/[\r\n\u2028\u2029]/.test(c));
    const r = tsuzuki(['tokenize', '--tokenizer', model, '--lines'], lines.join('\n') + '\n');
    expect(r.status).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as number[]);
    expect(out).toEqual(lines.map((l) => goldens[cases.indexOf(l)]![0]));
  });

  it('tokenize reads the text from --text-file or standard input (-) as from the argument', () => {
    const i = cases.findIndex((c) => c.includes('。') && c.length > 20 && c.length < 200);
    const file = join(mkdtempSync(join(tmpdir(), 'tsuzuki-tokenize-')), 'text.txt');
    writeFileSync(file, cases[i]!);
    const fromArgument = tsuzuki(['tokenize', '--tokenizer', model, cases[i]!]).stdout;
    expect(tsuzuki(['tokenize', '--tokenizer', model, '--text-file', file])).toMatchObject({ status: 0, stdout: fromArgument });
    expect(tsuzuki(['tokenize', '--tokenizer', model, '-'], cases[i])).toMatchObject({ status: 0, stdout: fromArgument });
    rmSync(dirname(file), { recursive: true });
  });

  it('detokenize prints the text', () => {
    const i = cases.findIndex((c) => c.length > 30 && c.length < 200);
    const r = tsuzuki(['detokenize', '--tokenizer', model, ...goldens[i]![0].map(String)]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe((goldens[i]![1] === 0 ? cases[i] : goldens[i]![1]) + '\n');
  });

  it('names the file when the model is not a SentencePiece model, and rejects bad ids', () => {
    const bad = tsuzuki(['tokenize', '--tokenizer', `${ROOT}package.json`, 'x']);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain('package.json');
    const id = tsuzuki(['detokenize', '--tokenizer', model, '12', 'x']);
    expect(id.status).toBe(2);
    const range = tsuzuki(['detokenize', '--tokenizer', model, '999999']);
    expect(range.status).toBe(2);
    expect(range.stderr).toContain('out of range');
  });
});
