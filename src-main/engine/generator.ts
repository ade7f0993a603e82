/**
 * The decode loop over a DecoderSession: prefill (reusing the cached prefix of the last prompt), then one batched
 * step per token for `n` alternatives, sampling each row with its own seeded stream, streaming text deltas and
 * stopping on EOS, length, a stop string or the end of a sentence. One task runs at a time per model: a new
 * request cancels the running one, and cancellation is checked between forward passes.
 */
import { TsuzukiError } from '../contract/errors';
import { PromptCache } from './kv-cache';
import { assertGenerationParams } from './params';
import type { PhraseSteering, SteeringRow } from './phrase-steering';
import { alternativeSeed, Rng } from './rng';
import { TokenSampler, type SamplingParams, type SpecialTokens } from './sampler';
import type { DecoderSession } from './session';
import { StopText } from './stop-text';
import { TokenTrail, topCandidates, type CandidateIds, type TokenText } from './token-probabilities';
import type { TokenProbabilities } from '../contract/generation';

/** What the generator needs of the streaming detokenizer: text that became final after each token. */
interface TokenDecoder {
  push(id: number): string;
  end(): string;
}

export interface GenerationRequest {
  promptIds: number[];
  maxNewTokens: number;
  sampling: SamplingParams;
  /** Seeds alternative i with `alternativeSeed(seed, i)`; unused when sampling is off. */
  seed: number;
  /** Number of alternatives, decoded together as one batch. */
  n: number;
  stopStrings?: string[];
  /** Stop after the first sentence (。！？」 and the closing marks right after). */
  endOfSentence?: boolean;
  /** A fresh decoder for each alternative. */
  createDecoder: () => TokenDecoder;
  /** Banned phrases and phrase biases (built for this request's context). */
  steering?: PhraseSteering | null;
  /** Let the special tokens ([SEP], <pad>…) be sampled; EOS ends a generation either way. */
  allowSpecialTokens?: boolean;
  signal?: AbortSignal;
  /** Each token's `top` candidates, streamed with the text (`tokens` of onDelta); absent, none are computed. */
  probabilities?: { top: number; tokenText: TokenText };
  onDelta?: (index: number, text: string, tokens?: TokenProbabilities[]) => void;
}

type FinishReason = 'eos' | 'length' | 'stop' | 'cancelled';

interface Alternative {
  index: number;
  /** The tokens generated (EOS excluded); at a stop, the text may end inside the last one. */
  ids: number[];
  text: string;
  finishReason: FinishReason;
}

interface GenerationStats {
  promptTokens: number;
  /** Prompt tokens whose KV cache was reused from the previous request. */
  reusedTokens: number;
  prefillTokens: number;
  prefillMs: number;
  /** From the call to the first sampled token (includes waiting for a cancelled predecessor). */
  firstTokenMs: number;
  decodeMs: number;
  decodeSteps: number;
  newTokens: number;
  /** New tokens (all alternatives) per second of decoding. */
  tokensPerSecond: number;
  totalMs: number;
}

export interface GenerationResult {
  alternatives: Alternative[];
  stats: GenerationStats;
}

export interface PrefillResult {
  promptTokens: number;
  reusedTokens: number;
  prefillTokens: number;
  prefillMs: number;
  cancelled: boolean;
}

export interface GeneratorOptions {
  /**
   * Longest forward pass of the prefill (default 64 on the CPU, 512 on a GPU). A cancel lands between chunks (a stop
   * during a cold prefill waits out the pass: about 0.5 s at int4 on 2 cores), and on the CPU chunks prefill about
   * 10 % faster than one pass (measured on 900 tokens of the 1.3B int4 model: no attention is computed for the later
   * chunks' masked-out future). Chunks of 64 prefill within 0–3 % of 128 (int4, interleaved runs at 512 and 900
   * tokens; int8 and fp32 alike) with smaller activations and half the wait (a stop measured 50–480 ms against
   * 240–810 ms); 32 is 5 % slower. On a GPU each pass costs a fixed dispatch overhead and activations do not count
   * against host memory: 512 tokens of the fp16 model on WebGPU (H100) prefilled in 155 ms as one pass against
   * 190 ms in chunks of 128.
   */
  prefillChunk?: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const ones = (n: number) => new Array<number>(n).fill(1);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

class AlternativeState {
  readonly ids: number[] = [];
  text = '';
  finishReason: FinishReason | null = null;
  readonly trail: TokenTrail | null;
  private readonly decoder: TokenDecoder;
  private readonly stop: StopText;

  constructor(
    readonly index: number,
    readonly sampler: TokenSampler,
    req: GenerationRequest,
    private readonly steering: SteeringRow | null,
  ) {
    this.decoder = req.createDecoder();
    this.stop = new StopText(req.stopStrings ?? [], req.endOfSentence ?? false);
    this.trail = req.probabilities ? new TokenTrail(req.probabilities.tokenText) : null;
  }

  /** Adds a sampled token (with its candidates when asked for); returns the text that became final. */
  accept(id: number, eos: ReadonlySet<number>, maxNewTokens: number, candidates: CandidateIds | null): string {
    if (eos.has(id)) return this.finish('eos');
    this.ids.push(id);
    const decoded = this.decoder.push(id);
    this.steering?.observe(id, decoded);
    if (candidates) this.trail?.push(candidates, decoded);
    const delta = this.stop.push(decoded);
    this.text += delta;
    if (this.stop.stopped) {
      this.finishReason = 'stop';
      return delta;
    }
    if (this.ids.length >= maxNewTokens) return delta + this.finish('length');
    return delta;
  }

  /** Ends the alternative; the text held back for a possible stop string is released. */
  finish(reason: FinishReason): string {
    // A sentence that already ended is a stop even if the limit came first.
    this.finishReason = reason === 'length' && this.stop.awaitingClosers ? 'stop' : reason;
    const held = this.decoder.end();
    this.trail?.text(held);
    const rest = this.stop.push(held) + this.stop.end();
    this.text += rest;
    return rest;
  }
}

/** As HF's `generate()`: several alternatives need sampling, since greedy decoding gives the same text each time. */
export function checkAlternatives(n: number, doSample: boolean): void {
  if (n > 1 && !doSample) {
    throw new TsuzukiError('invalid_argument', `Greedy decoding (no sampling) gives the same text every time: ask for one alternative, not ${n}, or turn sampling on.`);
  }
}

export class Generator {
  readonly cache = new PromptCache();
  private running: Promise<unknown> = Promise.resolve();
  private controller: AbortController | null = null;
  private readonly eos: ReadonlySet<number>;
  /** `special` with its special tokens banned too: what a request samples with unless it allows them. */
  private readonly withoutSpecial: SpecialTokens;
  private readonly prefillChunk: number;

  constructor(
    readonly session: DecoderSession,
    readonly special: SpecialTokens,
    options: GeneratorOptions = {},
  ) {
    this.eos = new Set(special.eosIds);
    this.withoutSpecial = { ...special, bannedIds: [...special.bannedIds, ...(special.specialIds ?? [])] };
    this.prefillChunk = options.prefillChunk ?? (session.executionProvider === 'cpu' ? 64 : 512);
  }

  get nPositions(): number {
    return this.session.manifest.architecture.nPositions;
  }

  /** Cancels whatever runs now (generation or prefill). */
  cancel(): void {
    this.controller?.abort();
  }

  /** Waits until nothing runs. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Runs `task` alone: the running task is cancelled and awaited first. */
  private async exclusive<T>(outer: AbortSignal | undefined, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
    const run = this.running.then(() => task(signal));
    this.running = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      if (this.controller === controller) this.controller = null;
    }
  }

  /** Fills the prompt cache for `ids` (e.g. while the writer pauses) so that a generation from it starts at once. */
  prefill(ids: number[], signal?: AbortSignal): Promise<PrefillResult> {
    this.checkPrompt(ids, 0);
    return this.exclusive(signal, async (s) => {
      const started = performance.now();
      const r = await this.prefillPrompt(ids, s);
      return {
        promptTokens: ids.length,
        reusedTokens: r.reused,
        prefillTokens: r.prefilled,
        prefillMs: performance.now() - started,
        cancelled: r.logits === null,
      };
    });
  }

  generate(req: GenerationRequest): Promise<GenerationResult> {
    // The seed is checked here, not only by each alternative's Rng: their seeds wrap around, which would hide a seed
    // out of range. Unused without sampling, it is not checked then.
    const { promptIds, maxNewTokens, n, seed, sampling } = req;
    assertGenerationParams({ ...sampling, maxNewTokens, numAlternatives: n, ...(sampling.doSample ? { seed } : {}) }, this.nPositions);
    this.checkPrompt(promptIds, maxNewTokens);
    checkAlternatives(n, sampling.doSample);
    const called = performance.now();
    return this.exclusive(req.signal, (signal) => this.run(req, signal, called));
  }

  private checkPrompt(ids: number[], maxNewTokens: number): void {
    if (ids.length === 0) throw new TsuzukiError('invalid_argument', 'The prompt has no tokens.');
    if (ids.length + maxNewTokens > this.nPositions) {
      throw new TsuzukiError(
        'invalid_argument',
        `The prompt (${ids.length} tokens) plus max_new_tokens (${maxNewTokens}) exceeds the model's ${this.nPositions} positions; shorten one of them.`,
      );
    }
  }

  /**
   * Runs the part of `ids` the cache does not cover, chunk by chunk, updating the cache after each chunk (so a
   * cancelled prefill still leaves its progress for the next request). `logits` is null when cancelled.
   */
  private async prefillPrompt(ids: number[], signal: AbortSignal) {
    const reuse = this.cache.reuse(ids);
    let { cache, logits } = reuse;
    let pos = reuse.reused;
    while (!logits || pos < ids.length) {
      // A pass blocks this thread's event loop: let a cancel that arrived during the last one be seen before the next.
      if (pos > reuse.reused) await yieldToEventLoop();
      if (signal.aborted) return { cache, logits: null, reused: reuse.reused, prefilled: pos - reuse.reused };
      const end = Math.min(ids.length, pos + this.prefillChunk);
      const out = await this.session.forward({
        ids: [ids.slice(pos, end)],
        attentionMask: [ones(end)],
        positionIds: [range(pos, end)],
        logitsToKeep: 1,
        ...(cache ? { cache } : {}),
      });
      logits = out.logits;
      cache = out.cache;
      pos = end;
      this.cache.set(ids.slice(0, end), cache, logits);
    }
    return { cache: cache!, logits, reused: reuse.reused, prefilled: pos - reuse.reused };
  }

  private async run(req: GenerationRequest, signal: AbortSignal, called: number): Promise<GenerationResult> {
    const started = performance.now();
    const prefill = await this.prefillPrompt(req.promptIds, signal);
    const prefillMs = performance.now() - started;
    const alts = Array.from({ length: req.n }, (_, i) => {
      const rng = req.sampling.doSample ? new Rng(alternativeSeed(req.seed, i)) : null;
      const steering = req.steering?.row(req.promptIds) ?? null;
      const special = req.allowSpecialTokens ? this.special : this.withoutSpecial;
      return new AlternativeState(i, new TokenSampler(req.sampling, special, rng, req.promptIds, steering), req, steering);
    });
    const stats = {
      promptTokens: req.promptIds.length,
      reusedTokens: prefill.reused,
      prefillTokens: prefill.prefilled,
      prefillMs,
      firstTokenMs: 0,
      decodeMs: 0,
      decodeSteps: 0,
      newTokens: 0,
      tokensPerSecond: 0,
      totalMs: 0,
    };
    const emit = (alt: AlternativeState, text: string) => {
      if (text) req.onDelta?.(alt.index, text, alt.trail?.release(alt.text.length));
    };
    const finishAll = (reason: FinishReason) => {
      for (const a of alts) if (!a.finishReason) emit(a, a.finish(reason));
    };

    if (!prefill.logits) {
      finishAll('cancelled');
    } else {
      const decodeStart = performance.now();
      // Every alternative samples its first token from the prompt's logits.
      let rowLogits = alts.map(() => prefill.logits!);
      let active = alts;
      // Every alternative reads the prompt from its cache, shared, and keeps what it generates in a row of its own:
      // one alternative or several, each row sees the same numbers, so alternatives equal separate runs.
      const shared = prefill.cache;
      let cache = this.session.newCache(req.n, req.maxNewTokens);
      try {
        for (let step = 0; ; step++) {
          active.forEach((a, r) => {
            const id = a.sampler.next(rowLogits[r]!, step);
            const top = req.probabilities?.top;
            const candidates = top ? topCandidates(rowLogits[r]!, a.sampler.processed, id, top) : null;
            emit(a, a.accept(id, this.eos, req.maxNewTokens, candidates));
          });
          if (step === 0) stats.firstTokenMs = performance.now() - called;
          const keep = active.map((a, r) => (a.finishReason ? -1 : r)).filter((r) => r >= 0);
          active = active.filter((a) => !a.finishReason);
          if (active.length === 0) break;
          if (signal.aborted) {
            finishAll('cancelled');
            break;
          }
          if (keep.length !== cache.rows) cache = cache.selectRows(keep, cache.capacity);
          const seen = shared.length + cache.length;
          const out = await this.session.forward({
            ids: active.map((a) => [a.ids[a.ids.length - 1]!]),
            attentionMask: active.map(() => ones(seen + 1)),
            positionIds: active.map(() => [seen]),
            cache,
            shared,
          });
          stats.decodeSteps++;
          const vocab = out.dims[2];
          rowLogits = active.map((_, r) => out.logits.subarray(r * vocab, (r + 1) * vocab));
          if (signal.aborted) {
            finishAll('cancelled');
            break;
          }
          await yieldToEventLoop();
        }
      } catch (error) {
        // What the garbage collector cannot see (a GPU cache) must not outlive a failed step.
        cache.release();
        throw error;
      }
      // A single continuation joins the prompt cache, so that generating on from the accepted text reuses it.
      if (req.n === 1 && cache.rows === 1 && cache.length > 0) {
        shared.extend(cache);
        this.cache.set([...req.promptIds, ...alts[0]!.ids.slice(0, cache.length)], shared, rowLogits[0]!.slice());
      } else {
        cache.release();
      }
      stats.decodeMs = performance.now() - decodeStart;
    }
    stats.newTokens = alts.reduce((sum, a) => sum + a.ids.length, 0);
    stats.tokensPerSecond = stats.decodeMs > 0 ? (stats.newTokens / stats.decodeMs) * 1000 : 0;
    stats.totalMs = performance.now() - called;
    return {
      alternatives: alts.map((a) => ({ index: a.index, ids: a.ids, text: a.text, finishReason: a.finishReason ?? 'cancelled' })),
      stats,
    };
  }
}

