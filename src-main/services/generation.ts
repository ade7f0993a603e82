/**
 * The generation use case behind `generation.start|cancel|prefill|context`: builds the context from the text before the
 * cursor, runs the engine on the active model, streams deltas as events, and writes every finished (or cancelled,
 * if it produced text) alternative to the history with its parameters, seed and timings, status 'proposed'.
 * The model is loaded on first use, in a worker thread (see generation-remote.ts), and kept; a different model
 * choice replaces it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Device } from '../engine/device';
import { resolveGenerationParams } from '../engine/params';
import type { z } from 'zod';
import type { generationEvents, GenerationPrefillInput, GenerationStartInput } from '../contract/generation';
import { toErrorInfo, TsuzukiError } from '../contract/errors';
import { RemoteRuntime, type RemoteGenerateResult } from './generation-remote';
import { DEFAULT_GENERATION_PARAMS, samplingOf, type GenerationParams } from '../contract/generation-params';
import { EMPTY_DOCUMENT_AIDS, mergeSteering, type Steering } from '../contract/document-aids';
import type { GenerationHistory } from './generation-history';
import type { NewGenerationInput } from './store-worker-contract';

export interface ModelChoice {
  /** Stored with each generation (e.g. the library's model name). */
  id: string;
  dir: string;
  device?: Device;
  threads?: number;
}

type GenerationEvents = { [K in keyof typeof generationEvents]: z.output<(typeof generationEvents)[K]> };
export type Emit = <E extends keyof GenerationEvents>(event: E, payload: GenerationEvents[E]) => void;

export interface GenerationDeps {
  /** The model to generate with; null when none is installed or chosen. */
  model: () => ModelChoice | null | Promise<ModelChoice | null>;
  /** Where each generation's history entries are stored; without one, nothing is. */
  history?: GenerationHistory | null;
  /** The active preset's parameters; by default the model card's. */
  presetParams?: () => GenerationParams;
  /** The settings' global banned phrases and phrase biases; by default none. */
  globalSteering?: () => Steering;
}

export class GenerationService {
  private runtime: { key: string; choice: ModelChoice; ready: Promise<RemoteRuntime> } | null = null;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: GenerationDeps) {}

  /** Validates the request, then generates in the background; returns at once with the id the events carry. */
  /** `lifetime` is the caller's (its window or connection): when it ends, the generation stops. */
  start(input: GenerationStartInput, emit: Emit, lifetime?: AbortSignal): { requestId: string } {
    // The request's parameters over the preset's, checked together (a request's min_new_tokens against the preset's length).
    const asked = resolveGenerationParams(input.params, this.preset());
    const sampling = samplingOf(asked);
    // Greedy decoding would give the same text n times: a preset's count of alternatives applies when it samples.
    const params = sampling.doSample ? asked : { ...asked, numAlternatives: 1 };
    const seed = params.seed ?? randomInt(0, 2 ** 32);
    const steering = mergeSteering(this.deps.globalSteering?.() ?? EMPTY_DOCUMENT_AIDS.steering, input.steering);
    const requestId = randomUUID();
    const controller = new AbortController();
    this.running.set(requestId, controller);
    void (async () => {
      try {
        const { runtime, choice } = await this.acquire();
        const result = await runtime.generate(
          {
            before: input.before,
            origin: input.beforeOffset,
            memo: input.memo,
            authorNote: input.authorNote,
            book: input.book,
            maxNewTokens: params.maxNewTokens,
            sampling,
            seed,
            n: params.numAlternatives,
            stopStrings: input.stopStrings,
            endOfSentence: input.stopAtSentenceEnd,
            tokenProbabilities: input.tokenProbabilities,
            steering,
            allowSpecialTokens: input.allowSpecialTokens,
          },
          {
            signal: lifetime ? AbortSignal.any([controller.signal, lifetime]) : controller.signal,
            onDelta: (delta) => emit('generation.delta', { requestId, ...delta }),
          },
        );
        const ids = await this.save(input, result, { params: { ...params, seed }, steering, runtime, choice, requestId });
        emit('generation.done', {
          requestId,
          alternatives: result.alternatives.map((a, i) => ({
            index: a.index,
            text: a.text,
            tokenCount: a.ids.length,
            finishReason: a.finishReason,
            generationId: ids[i] ?? null,
          })),
          seed: sampling.doSample ? seed : null,
          device: runtime.info.device,
          fallbackReason: runtime.info.fallbackReason,
          precision: runtime.info.precision,
          positions: runtime.info.positions,
          stats: { ...result.stats, loadMs: runtime.info.loadMs },
          context: result.context.parts,
        });
      } catch (error) {
        emit('generation.error', { requestId, error: toErrorInfo(error) });
      } finally {
        this.running.delete(requestId);
      }
    })();
    return { requestId };
  }

  private preset(): GenerationParams {
    return this.deps.presetParams?.() ?? DEFAULT_GENERATION_PARAMS;
  }

  cancel(requestId: string): { cancelled: boolean } {
    const controller = this.running.get(requestId);
    if (!controller || controller.signal.aborted) return { cancelled: false };
    controller.abort();
    return { cancelled: true };
  }

  /** Fills the KV cache for this context; the next start from it streams at once. A start cancels it. */
  async prefill(input: GenerationPrefillInput) {
    const { runtime } = await this.acquire();
    return runtime.prefill(this.promptOf(input));
  }

  /** The context a start with this input would send, part by part (the context viewer's "next"). */
  async context(input: GenerationPrefillInput) {
    const { runtime } = await this.acquire();
    const prompt = this.promptOf(input);
    const { parts, positions } = await runtime.context(prompt);
    return { parts, positions, maxNewTokens: prompt.maxNewTokens };
  }

  /** What a prefill and the context viewer build from: what a start builds from, with the preset's length. */
  private promptOf(input: GenerationPrefillInput) {
    const maxNewTokens = input.maxNewTokens ?? this.preset().maxNewTokens;
    return { before: input.before, origin: input.beforeOffset, memo: input.memo, authorNote: input.authorNote, book: input.book, maxNewTokens };
  }

  /** Stops everything and releases the model. */
  async dispose(): Promise<void> {
    for (const c of this.running.values()) c.abort();
    const current = this.runtime;
    this.runtime = null;
    if (current) await (await current.ready.catch(() => null))?.close();
  }

  private async acquire(): Promise<{ runtime: RemoteRuntime; choice: ModelChoice }> {
    const choice = await this.deps.model();
    if (!choice) {
      throw new TsuzukiError('no_model', 'No model is installed or selected. Download or convert a model in the model library first.');
    }
    const key = JSON.stringify([choice.dir, choice.device ?? 'auto', choice.threads ?? null]);
    if (this.runtime?.key !== key || !(await this.runtime.ready.then((r) => r.alive, () => false))) {
      const previous = this.runtime;
      const ready = (async () => {
        if (previous) await (await previous.ready.catch(() => null))?.close();
        return RemoteRuntime.open(choice.dir, { device: choice.device ?? 'auto', ...(choice.threads ? { threads: choice.threads } : {}) });
      })();
      this.runtime = { key, choice, ready };
      // A failed load is not kept: the next request tries again.
      ready.catch(() => {
        if (this.runtime?.ready === ready) this.runtime = null;
      });
    }
    const { ready } = this.runtime!;
    return { runtime: await ready, choice };
  }

  /** History entries, one per alternative with text (or finished); returns their ids by alternative. */
  private async save(
    input: GenerationStartInput,
    result: RemoteGenerateResult,
    info: { params: GenerationParams & { seed: number }; steering: Steering; runtime: RemoteRuntime; choice: ModelChoice; requestId: string },
  ): Promise<(number | null)[]> {
    const history = this.deps.history;
    const kept = result.alternatives.filter((a) => !(a.finishReason === 'cancelled' && a.text === ''));
    if (!history || kept.length === 0) return result.alternatives.map(() => null);
    const { runtime } = info;
    const entries = kept.map(
      (a): NewGenerationInput => ({
        documentId: input.documentId,
        groupId: info.requestId,
        altIndex: a.index,
        contextBefore: result.context.text,
        contextAfter: input.after,
        text: a.text,
        tokenIds: a.ids,
        params: {
          ...info.params,
          stopAtSentenceEnd: input.stopAtSentenceEnd,
          stopStrings: input.stopStrings,
          steering: info.steering,
          allowSpecialTokens: input.allowSpecialTokens,
          memoTokens: result.context.memoTokens,
          promptTokens: result.stats.promptTokens,
        },
        seed: info.params.doSample ? info.params.seed : null,
        modelId: info.choice.id,
        precision: runtime.info.precision,
        device: runtime.info.device,
        timings: { ...result.stats, loadMs: runtime.info.loadMs },
        finishReason: a.finishReason,
        status: 'proposed',
      }),
    );
    const ids = await history.record(entries);
    return result.alternatives.map((a) => {
      const at = kept.indexOf(a);
      return at < 0 ? null : (ids[at] ?? null);
    });
  }
}
