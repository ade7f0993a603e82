/**
 * One set of generation parameters, four doors: the same out-of-range values go through the CLI (spawned), the IPC
 * router (a generation request and a stored preset), the engine's Generator and the Settings form's check, and each
 * door refuses them with the same code and the same words, because each derives from the contract's one schema.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsuzukiError } from '../../../src-main/contract/errors';
import { DEFAULT_GENERATION_PARAMS, describeParamIssue, samplingOf, type GenerationParams } from '../../../src-main/contract/generation-params';
import { Generator } from '../../../src-main/engine/generator';
import { contract, type Result } from '../../../src-main/contract/contract';
import { createRouter, type CallContext } from '../../../src-main/ipc/router';
import { GenerationService } from '../../../src-main/services/generation';
import { createHandlers } from '../../../src-main/services/handlers';
import { DEFAULT_SETTINGS } from '../../../src-main/contract/settings';
import { createStoreHandlers } from '../../../src-main/services/store-handlers';
import { Store } from '../../../src-main/store/store';
import { en } from '../../../src-renderer/i18n/en';
import { ja, type MessageKey } from '../../../src-renderer/i18n/ja';
import { fieldIssues, reasonText } from '../../../src-renderer/settings/param-fields';
import { convertTiny, type TinyModel } from '../engine/tiny-model';

const bin = fileURLToPath(new URL('../../../bin/tsuzuki.js', import.meta.url));

interface Case {
  name: string;
  params: Partial<Record<keyof GenerationParams, unknown>>;
  cli: string[];
  message: string;
  /** The Settings form's sentence for it (Japanese, the catalogue's first language). */
  reason: string;
  /** A stored preset does not know the model: only a bound of the model (its window) passes there. */
  modelBound?: true;
}

// The tiny model has 256 positions: a continuation of at most 255 tokens leaves room for one token of context.
const cases: Case[] = [
  { name: '--num 16', params: { numAlternatives: 16 }, cli: ['--num', '16'], message: 'alternatives must be an integer from 1 to 8, got 16', reason: '1〜8 の整数にしてください。' },
  {
    name: 'top-k -1',
    params: { topK: -1 },
    cli: ['--top-k', '-1'],
    message: 'top_k must be an integer from 0 to 100000 (0 turns it off), got -1',
    reason: '0〜100000 の整数にしてください。',
  },
  {
    name: 'top-p 1.5',
    params: { topP: 1.5 },
    cli: ['--top-p', '1.5'],
    message: 'top_p must be in (0, 1] (1 turns it off), got 1.5',
    reason: '0 より大きく 1 以下の数にしてください。',
  },
  { name: 'temperature -1', params: { temperature: -1 }, cli: ['--temperature', '-1'], message: 'temperature must be from 0 to 10, got -1', reason: '0〜10 の数にしてください。' },
  { name: 'temperature NaN', params: { temperature: Number.NaN }, cli: ['--temperature', 'NaN'], message: 'temperature must be from 0 to 10, got NaN', reason: '0〜10 の数にしてください。' },
  {
    name: 'length 0',
    params: { maxNewTokens: 0 },
    cli: ['--max-new-tokens', '0'],
    message: 'max_new_tokens must be an integer from 1 to 1024, got 0',
    reason: '1〜1024 の整数にしてください。',
  },
  {
    name: 'length past the model’s window',
    params: { maxNewTokens: 300 },
    cli: ['--max-new-tokens', '300'],
    message: 'max_new_tokens must be at most 255 for this model: its window holds 256 tokens and the text before the cursor needs at least one, got 300',
    reason: 'このモデルでは 255 以下です。文脈の窓が 256 トークンで、前の文にも1トークン以上要るためです。',
    modelBound: true,
  },
  {
    name: 'seed 2^32',
    params: { seed: 2 ** 32 },
    cli: ['--seed', '4294967296'],
    message: 'seed must be an integer from 0 to 4294967295, got 4294967296',
    reason: '0〜4294967295 の整数にしてください。',
  },
];

let model: TinyModel;
let dbDir: string;
let store: Store;
let service: GenerationService;

beforeAll(async () => {
  model = await convertTiny();
  dbDir = await mkdtemp(join(tmpdir(), 'tsuzuki-doors-'));
  store = await Store.open(join(dbDir, 'tsuzuki.db'));
  service = new GenerationService({ model: () => ({ id: 'tiny', dir: model.dir, device: 'cpu', threads: 1 }) });
}, 120_000);
afterAll(async () => {
  await service?.dispose();
  store?.close();
  await model?.dispose();
  if (dbDir) await rm(dbDir, { recursive: true, force: true });
});

type ErrorInfo = { code: string; message: string };

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

/** A generation request over the real router; its error is the call's, or (a bound of the model) the end event's. */
async function overRouter(params: Case['params']): Promise<ErrorInfo | null> {
  const router = createRouter(contract, createHandlers({ store: createStoreHandlers({ store }), generation: service }));
  let ended: (e: ErrorInfo | null) => void = () => undefined;
  const end = new Promise<ErrorInfo | null>((resolve) => (ended = resolve));
  const ctx: CallContext<typeof contract> = {
    signal: new AbortController().signal,
    emit(event, payload) {
      if (event === 'generation.error') ended((payload as { error: ErrorInfo }).error);
      if (event === 'generation.done') ended(null);
    },
  };
  const r = (await router.dispatch('generation.start', { before: '今日は', params }, ctx)) as Result<unknown>;
  return r.ok ? end : r.error;
}

/** A preset stored through the router (what the Settings form sends). */
async function presetOverRouter(params: Case['params']): Promise<ErrorInfo | null> {
  const router = createRouter(contract, createHandlers({ store: createStoreHandlers({ store }) }));
  const ctx: CallContext<typeof contract> = { signal: new AbortController().signal, emit: () => undefined };
  const preset = { id: 'door', name: 'door', params: { ...DEFAULT_GENERATION_PARAMS, ...params } };
  const r = (await router.dispatch('settings.set', { sampling: { activePresetId: 'door', presets: [preset] } }, ctx)) as Result<unknown>;
  return r.ok ? null : r.error;
}

/** The engine's Generator, called as the CLI and the generation worker call it. */
async function throughGenerator(params: Case['params']): Promise<ErrorInfo | null> {
  const p = { ...DEFAULT_GENERATION_PARAMS, seed: 1, ...params } as GenerationParams & { seed: number };
  const gen = new Generator(model.session, { vocabSize: model.session.manifest.architecture.vocabSize, eosIds: [], bannedIds: [] });
  try {
    await gen.generate({
      promptIds: [5, 6, 7],
      maxNewTokens: p.maxNewTokens,
      sampling: samplingOf(p),
      seed: p.seed,
      n: p.numAlternatives,
      createDecoder: () => ({ push: () => '', end: () => '' }),
    });
    return null;
  } catch (error) {
    return error instanceof TsuzukiError ? { code: error.code, message: error.message } : { code: 'not a TsuzukiError', message: String(error) };
  }
}

const translate = (dictionary: Record<MessageKey, string>) => (key: MessageKey, values?: Record<string, string | number>) =>
  dictionary[key].replace(/\{(\w+)\}/g, (_, name: string) => String(values?.[name]));

describe('the four doors refuse the same values alike', () => {
  it.each(cases)('$name', async (c) => {
    const expected = { code: 'invalid_argument', message: c.message };

    const spawned = await cli(['generate', '--model', model.dir, '--device', 'cpu', ...c.cli, 'x']);
    expect({ exit: spawned.code, stderr: spawned.stderr }).toEqual({ exit: 2, stderr: `tsuzuki generate: ${c.message}\n` });

    expect(await overRouter(c.params)).toEqual(expected);
    expect(await presetOverRouter(c.params)).toEqual(c.modelBound ? null : expected);

    expect(await throughGenerator(c.params)).toEqual(expected);

    // The form checks before it saves, knowing the model in use; it shows the reason beside the field.
    const form = Object.values(fieldIssues({ ...DEFAULT_GENERATION_PARAMS, ...c.params }, 256));
    expect(form.map(describeParamIssue)).toEqual([c.message]);
    expect(reasonText(form[0]!, translate(ja))).toBe(c.reason);
    expect(reasonText(form[0]!, translate(en))).not.toBe(c.reason);
  }, 60_000);

  it('top-k 0 turns top-k off, at every door', async () => {
    const spawned = await cli(['generate', '--model', model.dir, '--device', 'cpu', '--top-k', '0', '--max-new-tokens', '2', '--seed', '1', 'x']);
    expect(spawned.code).toBe(0);
    expect(await overRouter({ topK: 0, maxNewTokens: 2 })).toBeNull();
    expect(await presetOverRouter({ topK: 0 })).toBeNull();
    expect(await throughGenerator({ topK: 0, maxNewTokens: 2 })).toBeNull();
    expect(fieldIssues({ ...DEFAULT_GENERATION_PARAMS, topK: 0 }, 256)).toEqual({});
  }, 60_000);

  it('the default preset is the contract’s defaults, inside every bound', () => {
    expect(DEFAULT_SETTINGS.sampling.presets[0]!.params).toEqual(DEFAULT_GENERATION_PARAMS);
    for (const preset of DEFAULT_SETTINGS.sampling.presets) expect(fieldIssues(preset.params, 256)).toEqual({});
  });
});
