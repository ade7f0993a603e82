import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { golden } from '../model/golden';
import { convertTiny, type TinyModel } from './tiny-model';

const bin = fileURLToPath(new URL('../../../bin/tsuzuki.js', import.meta.url));

/** `signal`: what killed the process, when something did (a crash is not an exit code). */
function tsuzuki(args: string[], input?: string): Promise<{ code: number; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const failed = error as { code?: number; signal?: string } | null;
      resolve({ code: failed ? (failed.code ?? 1) : 0, signal: failed?.signal ?? null, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

let model: TinyModel;
beforeAll(async () => {
  model = await convertTiny();
});
afterAll(async () => {
  await model?.dispose();
});

const withText = golden.weights.fp32.find((e) => (e as { text?: string | null }).text)! as typeof golden.weights.fp32[number] & { text: string };

describe('tsuzuki generate', () => {
  it('--no-sample --json: the prompt tokenizes as the reference did and the ids are its greedy continuation', async () => {
    const r = await tsuzuki(['generate', '--model', model.dir, '--device', 'cpu', '--no-sample', '--max-new-tokens', '20', '--json', withText.text]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { prompt_ids: number[]; texts: string[]; ids: number[][]; stats: Record<string, unknown> };
    expect(out.prompt_ids).toEqual(withText.ids);
    expect(out.ids).toEqual([withText.greedy]);
    expect(out.texts).toHaveLength(1);
    expect(out.stats).toMatchObject({ promptTokens: withText.ids.length, newTokens: 20, device: 'cpu', probe: null, seed: null, precision: 'fp32' });
  });

  it('streams the same text as --json gives; a seed reproduces it; --num gives that many alternatives', async () => {
    const args = ['generate', '--model', model.dir, '--device', 'cpu', '--seed', '9', '--max-new-tokens', '15', 'ファイルの内容を'];
    const streamed = await tsuzuki(args);
    const json = JSON.parse((await tsuzuki([...args, '--json'])).stdout) as { texts: string[]; ids: number[][]; stats: { seed: number } };
    expect(streamed.stdout).toBe(`${json.texts[0]}\n`);
    expect(json.stats.seed).toBe(9);
    const three = JSON.parse((await tsuzuki([...args, '--json', '--num', '3'])).stdout) as { texts: string[]; ids: number[][] };
    expect(three.ids).toHaveLength(3);
    expect(three.ids[0]).toEqual(json.ids[0]);
  });

  it('--json --probabilities: each alternative’s tokens with their top candidates, greedy’s choice first; without --json, a usage error', async () => {
    const args = ['generate', '--model', model.dir, '--device', 'cpu', '--no-sample', '--max-new-tokens', '10', '--json', withText.text];
    const plain = JSON.parse((await tsuzuki(args)).stdout) as Record<string, unknown>;
    expect(plain).not.toHaveProperty('tokens');
    const r = await tsuzuki([...args, '--probabilities']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { texts: string[]; tokens: { at: number; chosen: number; candidates: { text: string; p: number; raw: number }[] }[][] };
    expect(out.texts).toEqual(plain.texts);
    expect(out.tokens).toHaveLength(1);
    expect(out.tokens[0]!.length).toBeGreaterThan(0);
    for (const token of out.tokens[0]!) {
      expect(token.chosen).toBe(0);
      expect(token.candidates).toHaveLength(10);
    }
    const noJson = await tsuzuki(args.filter((a) => a !== '--json').concat('--probabilities'));
    expect(noJson.code).toBe(2);
    expect(noJson.stderr).toMatch(/--probabilities adds each token's candidates to the JSON output: give --json too/);
  });

  it('rejects bad options with a usage error', async () => {
    const bad = await tsuzuki(['generate', '--model', model.dir, '--top-p', '0', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/top_p must be in \(0, 1\]/);
    const noPrompt = await tsuzuki(['generate', '--model', model.dir]);
    expect(noPrompt.code).toBe(2);
    const notNumber = await tsuzuki(['generate', '--model', model.dir, '--temperature', 'hot', 'x']);
    expect(notNumber.stderr).toMatch(/temperature must be from 0 to 10, got "hot"/);
    // A negative value reaches the parameter check, written either way.
    for (const form of [['--temperature', '-1'], ['--temperature=-1']]) {
      const negative = await tsuzuki(['generate', '--model', model.dir, ...form, 'x']);
      expect(negative.code).toBe(2);
      expect(negative.stderr).toMatch(/temperature must be from 0 to 10, got -1/);
    }
    // A folder that is no model: that one line, before `auto` probes a device (whose drivers may print to stderr).
    const missing = await tsuzuki(['generate', '--model', join(model.dir, 'missing'), 'x']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/is not a converted model folder\. Convert a model with/)]);
    const greedyThree = await tsuzuki(['generate', '--model', join(model.dir, 'missing'), '--no-sample', '--num', '3', 'x']);
    expect(greedyThree.code).toBe(2);
    expect(greedyThree.stderr).toMatch(/ask for one alternative, not 3, or turn sampling on/);
    // A seed past 32 bits is refused, not wrapped around into another seed, and before any model is read.
    for (const seed of ['4294967296', '99999999999999999999']) {
      const big = await tsuzuki(['generate', '--model', join(model.dir, 'missing'), '--device', 'cpu', '--seed', seed, 'x']);
      expect(big.code).toBe(2);
      expect(big.stderr).toMatch(/seed must be an integer from 0 to 4294967295/);
    }
  });
});

describe('tsuzuki generate: steering', () => {
  it('--ban keeps a phrase out of the text that the same seed wrote with it; --bias takes WORD=VALUE within bounds', async () => {
    const args = ['generate', '--model', model.dir, '--device', 'cpu', '--seed', '3', '--top-k', '0', '--max-new-tokens', '30', '--json', 'ファイルの内容を'];
    const free = JSON.parse((await tsuzuki(args)).stdout) as { texts: string[] };
    const phrase = Array.from(free.texts[0]!.replace(/\s/gu, '')).slice(2, 4).join('');
    expect(free.texts[0]).toContain(phrase);
    const banned = await tsuzuki([...args, '--ban', phrase, '--ban', 'もう一つ', '--bias', 'ファイル=-5', '--allow-special-tokens']);
    expect(banned.code).toBe(0);
    expect((JSON.parse(banned.stdout) as { texts: string[] }).texts[0]).not.toContain(phrase);
    for (const bad of ['ファイル=101', 'ファイル=abc', 'ファイル', '=3']) {
      const r = await tsuzuki(['generate', '--model', join(model.dir, 'missing'), '--bias', bad, 'x']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--bias takes WORD=VALUE with VALUE a number from -100 to 100/);
    }
    const empty = await tsuzuki(['generate', '--model', join(model.dir, 'missing'), '--ban', ' ', 'x']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--ban: must not be empty/);
  });
});

describe('tsuzuki generate: author’s note and character book', () => {
  it('--note and --book enter the context, which --json shows part by part; bad values are refused before the model loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsuzuki-book-'));
    try {
      const book = join(dir, 'book.json');
      await writeFile(book, JSON.stringify({ entries: [{ id: 'k', name: '駒子', keys: ['駒子'], text: '駒子は芸者。' }] }));
      const prompt = '島村は駅に着いた。\n駒子が待っていた。';
      const args = ['generate', '--model', model.dir, '--device', 'cpu', '--no-sample', '--max-new-tokens', '5', '--json', '--note', '［夜］', '--note-depth', '1', '--book', book, prompt];
      const r = await tsuzuki(args);
      expect(r.code, r.stderr).toBe(0);
      const { context, prompt_ids } = JSON.parse(r.stdout) as { context: { kind: string; text: string; tokens: number }[]; prompt_ids: number[] };
      expect(context.map((p) => p.kind)).toEqual(['book', 'text', 'authorNote', 'text']);
      expect(context.map((p) => p.text).join('')).toBe('駒子は芸者。\n島村は駅に着いた。\n［夜］\n駒子が待っていた。');
      expect(context.reduce((n, p) => n + p.tokens, 0)).toBe(prompt_ids.length);

      const missing = join(model.dir, 'missing');
      await writeFile(join(dir, 'bad.json'), '{"entries": [{"keys": []}]}');
      // Exit status 2: a bad argument; 3: a file that is not there.
      const cases: Array<[string[], RegExp, number]> = [
        [['--note', 'x', '--note-depth', '101'], /--note-depth: Too big/, 2],
        [['--note', 'x', '--note-unit', 'pages'], /--note-unit: /, 2],
        [['--note-depth', '2'], /give --note TEXT too/, 2],
        [['--book', join(dir, 'bad.json')], /bad\.json: entries\.0\.id: /, 2],
        [['--book', join(dir, 'none.json')], /Cannot read/, 3],
      ];
      for (const [extra, message, code] of cases) {
        const bad = await tsuzuki(['generate', '--model', missing, ...extra, 'x']);
        expect(bad.code, extra.join(' ')).toBe(code);
        expect(bad.stderr).toMatch(message);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tsuzuki generate: long text', () => {
  // 300,000 characters of prose with sentence ends: far more than the tiny model's 256 positions, and more than one
  // command-line argument can hold (Linux allows 128 KiB).
  const long = Array.from({ length: 20_000 }, (_, i) => `${'あいうえおかきくけこさしすせそ'.slice(i % 7, (i % 7) + 7 + (i % 5))}。`).join('').padEnd(300_000, 'ん');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsuzuki-cli-text-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const args = ['generate', '--model', '', '--device', 'cpu', '--no-sample', '--max-new-tokens', '5', '--json'];
  const withModel = () => args.map((a) => a || model.dir);

  it('reads a 300,000-character prompt from --prompt-file and from standard input (-), and continues its tail', async () => {
    const file = join(dir, 'prompt.txt');
    await writeFile(file, long);
    const fromFile = await tsuzuki([...withModel(), '--prompt-file', file]);
    expect(fromFile).toMatchObject({ code: 0, signal: null });
    expect(fromFile.stderr).toMatch(/The prompt is too long: using its last \d+ characters/);
    const out = JSON.parse(fromFile.stdout) as { prompt_ids: number[]; ids: number[][]; stats: { newTokens: number } };
    expect(out.prompt_ids.length).toBeGreaterThan(0);
    expect(out.prompt_ids.length).toBeLessThanOrEqual(256 - 5);
    expect(out.stats.newTokens).toBeGreaterThan(0);

    const fromStdin = await tsuzuki([...withModel(), '-'], long);
    expect(fromStdin).toMatchObject({ code: 0, signal: null });
    expect(JSON.parse(fromStdin.stdout)).toEqual({ ...out, stats: expect.any(Object) });
  });

  it('a prompt argument too long for onnxruntime is refused with what to do instead, not a crash', async () => {
    // onnxruntime parses the process's command line when it starts; about 28 KB of it overflowed the stack (SIGSEGV).
    const r = await tsuzuki([...withModel(), long.slice(0, 30_000)]);
    expect(r).toMatchObject({ code: 2, signal: null });
    expect(r.stderr).toMatch(/command line .* file or on standard input/);
  });

  it('refuses a prompt given twice, a missing file and a file that is not UTF-8 text', async () => {
    const both = await tsuzuki([...withModel(), '--prompt-file', join(dir, 'x'), 'text']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/Give the prompt once/);
    const missing = await tsuzuki([...withModel(), '--prompt-file', join(dir, 'missing.txt')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/Cannot read .*missing\.txt/);
    const binary = join(dir, 'binary.txt');
    await writeFile(binary, Buffer.from([0xe3, 0x81, 0x82, 0xff, 0xfe]));
    const notText = await tsuzuki([...withModel(), '--prompt-file', binary]);
    expect(notText.code).toBe(2);
    expect(notText.stderr).toMatch(/not UTF-8 text/);
  });
});

describe('tsuzuki logits', () => {
  it('ids past the context or outside the vocabulary are refused in words a user reads, naming no function', async () => {
    const long = await tsuzuki(['logits', '--model', model.dir, '--ids', Array(300).fill(5).join(',')]);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/^tsuzuki logits: The text is 300 tokens, more than the 256 the model reads at once; give fewer tokens\.\n$/);
    const unknown = await tsuzuki(['logits', '--model', model.dir, '--ids', '1,1000']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tsuzuki logits: Token id 1000 is not in the model's vocabulary \(0–999\); give ids from this model's tokenizer\.\n$/);
  });
});

describe('tsuzuki bench', () => {
  it('reports every measurement as JSON', async () => {
    const r = await tsuzuki(['bench', '--model', model.dir, '--device', 'cpu', '--threads', '1', '--decode-tokens', '4']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(report).toMatchObject({ device: 'cpu', precision: 'fp32', threads: 1 });
    expect(Object.keys(report.prefill!)).toEqual(['128']); // the tiny model has 256 positions
    expect(Object.keys(report.decodeTokensPerSecond!)).toEqual(['batch1Empty', 'batch3Empty', 'batch1After220', 'batch3After220']);
    expect(report.firstToken).toMatchObject({ warmReusedTokens: 220 });
    // On the CPU, the bound that this moment's memory bandwidth sets on each single-row decode measurement.
    expect(Object.keys(report.roofline!.boundTokensPerSecond as object)).toEqual(['batch1Empty', 'batch1After220']);
    expect(report.roofline!.weightMBPerStep).toBe(0.7);
  });
});

describe('tsuzuki eval', () => {
  it('a text within one window: exp of the mean NLL of every token after the first', async () => {
    const file = join(model.dir, 'short.txt');
    await writeFile(file, withText.text);
    const r = await tsuzuki(['eval', '--model', model.dir, '--text', file, '--device', 'cpu']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { perplexity: number; scoredTokens: number; windows: number; tokens: number };
    expect(report).toMatchObject({ tokens: 26, scoredTokens: 25, windows: 1 });
    // Independent path: the session's own per-position logits, log-softmax here.
    const [rows] = await model.session.sequenceLogits([withText.ids], { allPositions: true });
    let nll = 0;
    for (let t = 1; t < withText.ids.length; t++) {
      const row = rows![t - 1]!;
      const max = Math.max(...row);
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
      nll += lse - row[withText.ids[t]!]!;
    }
    expect(report.perplexity).toBeCloseTo(Math.exp(nll / 25), 6);
  });

  it('reads the text from standard input with --text -', async () => {
    const r = await tsuzuki(['eval', '--model', model.dir, '--text', '-', '--device', 'cpu'], withText.text);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tokens: 26, scoredTokens: 25, windows: 1 });
  });

  it('slides windows of the full context by the stride and scores each token once', async () => {
    const file = join(model.dir, 'long.txt');
    await writeFile(file, withText.text.repeat(20));
    const r = await tsuzuki(['eval', '--model', model.dir, '--text', file, '--stride', '100', '--device', 'cpu']);
    const report = JSON.parse(r.stdout) as { scoredTokens: number; windows: number; tokens: number; maxLength: number };
    expect(report.maxLength).toBe(256);
    expect(report.scoredTokens).toBe(report.tokens - 1);
    expect(report.windows).toBe(Math.ceil((report.tokens - 256) / 100) + 1);
  });
});
