/**
 * One model ready to generate: the ONNX session on its device, the tokenizer that came with it, and the generator
 * that owns the session's KV cache. Shared by the generation service and the CLI.
 */
import { join } from 'node:path';
import type { AuthorNote, Book } from '../contract/document-aids';
import { TOKEN_CANDIDATES } from '../contract/generation';
import { buildContext, type BuiltContext } from '../engine/context';
import { describeProbe, loadModel, type ConcreteDevice, type Device } from '../engine/device';
import { Generator } from '../engine/generator';
import { PhraseSteering, type SteeringLists } from '../engine/phrase-steering';
import type { SpecialTokens } from '../engine/sampler';
import { TOKENIZER_FILE } from '../model/format/manifest';
import { loadTokenizer, type Tokenizer } from '../tokenizer';
import { TsuzukiError } from '../contract/errors';

export interface RuntimeOptions {
  device?: Device;
  threads?: number;
  prefillChunk?: number;
}

export class GenerationRuntime {
  private constructor(
    readonly dir: string,
    readonly tokenizer: Tokenizer,
    readonly generator: Generator,
    readonly device: ConcreteDevice,
    readonly fallbackReason: string | null,
    /** What `auto` measured to choose the device, in words (null for a named device). */
    readonly probe: string | null,
    readonly loadMs: number,
  ) {}

  static async open(dir: string, options: RuntimeOptions = {}): Promise<GenerationRuntime> {
    const started = performance.now();
    const loaded = await loadModel(dir, options.device ?? 'auto', options.threads ? { threads: options.threads } : {});
    try {
      const tokenizer = await loadTokenizer(join(dir, TOKENIZER_FILE));
      const special = specialTokens(tokenizer, loaded.session.manifest.architecture.vocabSize, loaded.session.manifest.specialTokens.eos);
      const generator = new Generator(loaded.session, special, options.prefillChunk ? { prefillChunk: options.prefillChunk } : {});
      const probe = loaded.probe ? `${loaded.probe.device}: ${describeProbe(loaded.probe)}` : null;
      return new GenerationRuntime(dir, tokenizer, generator, loaded.device, loaded.fallbackReason, probe, performance.now() - started);
    } catch (error) {
      await loaded.session.release();
      throw error;
    }
  }

  get manifest() {
    return this.generator.session.manifest;
  }

  /** The prompt for the text before the cursor (see engine/context.ts), line breaks per the tokenizer's strategy. */
  context(input: { before: string; origin?: number; memo?: string; authorNote?: AuthorNote; book?: Book; maxNewTokens: number }): BuiltContext {
    const t = this.tokenizer;
    return buildContext(
      { encode: (text) => t.encodeContext(text), decode: (ids) => t.decodeOutput(ids) },
      { ...input, nPositions: this.generator.nPositions, startId: t.special.bos ?? t.special.eos ?? 0 },
    );
  }

  /** The banned phrases and phrase biases for a continuation of `afterText`; null when there are none. */
  steering(lists: SteeringLists, afterText: string): PhraseSteering | null {
    return lists.bannedPhrases.length + lists.phraseBiases.length > 0 ? new PhraseSteering(this.tokenizer, lists, afterText) : null;
  }

  /** What the generator needs to report each token's candidates (the token view, `generate --probabilities`). */
  probabilities() {
    return { top: TOKEN_CANDIDATES, tokenText: (id: number) => this.tokenizer.tokenText(id) };
  }

  /** A streaming decoder for one alternative continuing `afterText`. */
  decoder(afterText: string) {
    return this.tokenizer.createStreamDecoder({ afterText });
  }

  async close(): Promise<void> {
    this.generator.cancel();
    await this.generator.idle();
    this.generator.cache.clear();
    await this.generator.session.release();
  }
}

/**
 * EOS from the tokenizer (else the model's config). Every id the model has but the tokenizer cannot decode (a padded
 * embedding table) is banned; so, unless a request allows them, are the special tokens (see specialIds).
 */
function specialTokens(tokenizer: Tokenizer, vocabSize: number, configEos: number | null): SpecialTokens {
  const eos = tokenizer.special.eos ?? configEos;
  if (tokenizer.vocabSize > vocabSize) {
    throw new TsuzukiError(
      'corrupt_file',
      `The tokenizer has ${tokenizer.vocabSize} pieces but the model only ${vocabSize} tokens: spiece.model does not belong to this model. Convert the model again.`,
    );
  }
  const banned: number[] = [];
  for (let id = tokenizer.vocabSize; id < vocabSize; id++) banned.push(id);
  return { vocabSize, eosIds: eos === null ? [] : [eos], bannedIds: banned, specialIds: specialIds(tokenizer, eos) };
}

/** A user-defined piece written like a marker ([SEP], [CLS], [MASK], <sep>), not like text (【注】, ファイル). */
const MARKER = /^(\[[^[\]\s]+\]|<[^<>\s]+>)$/u;

/**
 * What must not appear in prose: <unk> (written as " ⁇ "), every control piece (<s>, </s>, <pad>: they write nothing
 * and mean something else to the model) and every user-defined marker ([SEP] is written literally). EOS is not
 * among them (it ends a generation), nor is the line-break piece (a model writes paragraphs with it).
 */
function specialIds(tokenizer: Tokenizer, eos: number | null): number[] {
  const { unk, control, userDefined } = tokenizer.special;
  const markers = userDefined.filter((id) => MARKER.test(tokenizer.idToPiece(id)));
  const keep = new Set([eos, tokenizer.newline.pieceId]);
  return [...new Set([unk, ...control, ...markers])].filter((id) => !keep.has(id)).sort((a, b) => a - b);
}
