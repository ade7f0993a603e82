import { randomInt } from 'node:crypto';
import { DEVICES, type Device } from '../../engine/device';
import { checkAlternatives } from '../../engine/generator';
import { resolveGenerationParams } from '../../engine/params';
import type { ExecutionProvider } from '../../engine/session';
import { GenerationRuntime } from '../../services/generation-runtime';
import { TsuzukiError } from '../../contract/errors';
import { samplingOf } from '../../contract/generation-params';
import type { TokenProbabilities } from '../../contract/generation';
import { authorNoteSchema, bookSchema, MAX_BIAS, MAX_PHRASE_CHARS, MAX_PHRASES, steeringSchema, type AuthorNote, type Book, type Steering } from '../../contract/document-aids';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { readTextInput } from '../text-input';

const usage =
  'tsuzuki generate --model <dir> [--device auto|cpu|cuda|dml|webgpu|coreml] [--max-new-tokens N] [--min-new-tokens N] ' +
  '[--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--no-sample] [--seed S] [--num N] [--threads N] [--json] ' +
  '[--ban WORD]… [--bias WORD=VALUE]… [--allow-special-tokens] [--probabilities] ' +
  '[--note TEXT [--note-depth N] [--note-unit lines|sentences]] [--book FILE.json] ' +
  'PROMPT | - (standard input) | --prompt-file FILE';

/** A numeric option: undefined when absent, else a finite number (integer when asked). */
export function numberOption(name: string, value: string | undefined, integer: boolean, commandUsage: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new TsuzukiError('invalid_argument', `--${name} must be ${integer ? 'an integer' : 'a number'}, got "${value}".\nUsage: ${commandUsage}`);
  }
  return n;
}

/** An option's text as a number for the parameter check to judge; text that is no number stays text, quoted in the message. */
function numeric(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const n = Number(text);
  return text.trim() !== '' && (!Number.isNaN(n) || text.trim() === 'NaN') ? n : text;
}

export function deviceOption(value: string | undefined, commandUsage: string): Device {
  const device = value ?? 'auto';
  if (!(DEVICES as readonly string[]).includes(device)) {
    throw new TsuzukiError('invalid_argument', `--device must be one of ${DEVICES.join(', ')}, got "${device}".\nUsage: ${commandUsage}`);
  }
  return device as Device;
}

/** One named provider, never `auto`, for commands that check or measure a single device. */
export function providerOption(value: string | undefined, commandUsage: string): ExecutionProvider {
  const device = deviceOption(value ?? 'cpu', commandUsage);
  if (device === 'auto') throw new TsuzukiError('invalid_argument', `--device must name one provider here, not auto.\nUsage: ${commandUsage}`);
  return device;
}

/** --ban WORD and --bias WORD=VALUE (VALUE within ±MAX_BIAS; the last = splits, so a word may hold one), checked as the contract's lists. */
function steeringOptions(bans: string[], biases: string[]): Steering {
  const phraseBiases = biases.map((option) => {
    const at = option.lastIndexOf('=');
    const value = at > 0 ? option.slice(at + 1) : '';
    const bias = Number(value);
    if (at <= 0 || value.trim() === '' || !Number.isFinite(bias) || Math.abs(bias) > MAX_BIAS) {
      throw new TsuzukiError('invalid_argument', `--bias takes WORD=VALUE with VALUE a number from -${MAX_BIAS} to ${MAX_BIAS}, got "${option}".\nUsage: ${usage}`);
    }
    return { phrase: option.slice(0, at), bias };
  });
  const checked = steeringSchema.safeParse({ bannedPhrases: bans, phraseBiases });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const option = issue.path[0] === 'bannedPhrases' ? '--ban' : '--bias';
    throw new TsuzukiError(
      'invalid_argument',
      `${option}: ${issue.message} (a word is 1 to ${MAX_PHRASE_CHARS} characters, at most ${MAX_PHRASES} of each option).\nUsage: ${usage}`,
    );
  }
  return checked.data;
}

/** --note (with its depth and unit) and --book FILE (a character book as JSON), checked as the contract's. */
async function aidsOptions(values: { note?: string; 'note-depth'?: string; 'note-unit'?: string; book?: string }): Promise<{ authorNote?: AuthorNote; book?: Book }> {
  const aids: { authorNote?: AuthorNote; book?: Book } = {};
  if (values.note !== undefined) {
    const note = authorNoteSchema.safeParse({ text: values.note, depth: numeric(values['note-depth']), unit: values['note-unit'] });
    if (!note.success) {
      const issue = note.error.issues[0]!;
      throw new TsuzukiError('invalid_argument', `--note${issue.path[0] === 'text' ? '' : `-${String(issue.path[0])}`}: ${issue.message}.\nUsage: ${usage}`);
    }
    aids.authorNote = note.data;
  } else if (values['note-depth'] !== undefined || values['note-unit'] !== undefined) {
    throw new TsuzukiError('invalid_argument', `--note-depth and --note-unit place a --note: give --note TEXT too.\nUsage: ${usage}`);
  }
  if (values.book !== undefined) {
    const text = await readTextInput({ argument: undefined, file: values.book, fileOption: 'book', what: 'book', usage });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TsuzukiError('invalid_argument', `${values.book} is not JSON: a book is {"tokenBudget": …, "entries": [{"id", "name", "keys", "text", …}]}.`);
    }
    const book = bookSchema.safeParse(json);
    if (!book.success) {
      const issue = book.error.issues[0]!;
      throw new TsuzukiError('invalid_argument', `${values.book}: ${issue.path.join('.') || 'book'}: ${issue.message}.`);
    }
    aids.book = book.data;
  }
  return aids;
}

export const generate: Command = {
  name: 'generate',
  summary:
    'Continue PROMPT (or standard input, or a file) with a converted model, streaming the text (--json: ids, the context part by part, texts and timings as JSON; with --probabilities, each token with its top candidates)',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      model: { type: 'string' },
      'prompt-file': { type: 'string' },
      device: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      'min-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      'repetition-penalty': { type: 'string' },
      'no-sample': { type: 'boolean', default: false },
      seed: { type: 'string' },
      num: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
      ban: { type: 'string', multiple: true, default: [] },
      bias: { type: 'string', multiple: true, default: [] },
      'allow-special-tokens': { type: 'boolean', default: false },
      probabilities: { type: 'boolean', default: false },
      note: { type: 'string' },
      'note-depth': { type: 'string' },
      'note-unit': { type: 'string' },
      book: { type: 'string' },
    });
    if (!values.model) throw new TsuzukiError('invalid_argument', `--model is required.\nUsage: ${usage}`);
    if (positionals.length > 1) throw new TsuzukiError('invalid_argument', `Give exactly one PROMPT (quote it).\nUsage: ${usage}`);
    if (values.probabilities && !values.json) {
      throw new TsuzukiError('invalid_argument', `--probabilities adds each token's candidates to the JSON output: give --json too.\nUsage: ${usage}`);
    }
    const threads = numberOption('threads', values.threads, true, usage);
    if (threads !== undefined && threads < 1) throw new TsuzukiError('invalid_argument', `--threads must be at least 1, got ${threads}.`);
    // The contract's bounds, checked before the model loads (seconds at full size); the window once it has.
    const params = resolveGenerationParams({
      doSample: !values['no-sample'],
      temperature: numeric(values.temperature),
      topK: numeric(values['top-k']),
      topP: numeric(values['top-p']),
      repetitionPenalty: numeric(values['repetition-penalty']),
      maxNewTokens: numeric(values['max-new-tokens']),
      minNewTokens: numeric(values['min-new-tokens']),
      numAlternatives: numeric(values.num),
      seed: numeric(values.seed),
    });
    const { maxNewTokens, numAlternatives: n } = params;
    const sampling = samplingOf(params);
    const seed = params.seed ?? randomInt(0, 2 ** 32);
    checkAlternatives(n, sampling.doSample);
    const steering = steeringOptions(values.ban, values.bias);
    const aids = await aidsOptions(values);
    const prompt = await readTextInput({ argument: positionals[0], file: values['prompt-file'], fileOption: 'prompt-file', what: 'prompt', usage });

    const runtime = await GenerationRuntime.open(values.model, { device: deviceOption(values.device, usage), ...(threads ? { threads } : {}) });
    try {
      if (runtime.fallbackReason) process.stderr.write(`Running on the CPU: ${runtime.fallbackReason}\n`);
      const context = runtime.context({ before: prompt, maxNewTokens, ...aids });
      if (context.start > 0) process.stderr.write(`The prompt is too long: using its last ${context.text.length} characters.\n`);
      const stream = !values.json && n === 1;
      const tokens: TokenProbabilities[][] = Array.from({ length: n }, () => []);
      const result = await runtime.generator.generate({
        promptIds: context.ids,
        maxNewTokens,
        sampling,
        seed,
        n,
        createDecoder: () => runtime.decoder(context.text),
        steering: runtime.steering(steering, context.text),
        allowSpecialTokens: values['allow-special-tokens'],
        ...(values.probabilities ? { probabilities: runtime.probabilities(), onDelta: (i: number, _: string, t?: TokenProbabilities[]) => void tokens[i]!.push(...(t ?? [])) } : {}),
        ...(stream ? { onDelta: (_: number, text: string) => void process.stdout.write(text) } : {}),
      });
      const texts = result.alternatives.map((a) => a.text);
      if (values.json) {
        const stats = {
          ...result.stats,
          loadMs: runtime.loadMs,
          seed: sampling.doSample ? seed : null,
          device: runtime.device,
          fallbackReason: runtime.fallbackReason,
          probe: runtime.probe,
          precision: runtime.manifest.precision,
          finishReasons: result.alternatives.map((a) => a.finishReason),
        };
        const ids = result.alternatives.map((a) => a.ids);
        const output = { prompt_ids: context.ids, context: context.parts, texts, ids, stats, ...(values.probabilities ? { tokens } : {}) };
        process.stdout.write(JSON.stringify(output) + '\n');
      } else if (stream) {
        process.stdout.write('\n');
      } else {
        texts.forEach((text, i) => process.stdout.write(`--- ${i + 1} ---\n${text}\n`));
      }
      if (!values.json && sampling.doSample) process.stderr.write(`seed ${seed}\n`);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
