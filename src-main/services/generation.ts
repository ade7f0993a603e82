/**
 * The generation use case behind `generation.start|cancel|prefill`: builds the context from the text before the
 * cursor, runs the engine on the active model, streams deltas as events, and writes every finished (or cancelled,
 * if it produced text) alternative to the history with its parameters, seed and timings, status 'proposed'.
 * The model is loaded on first use, in a worker thread (see generation-remote.ts), and kept; a different model
 * choice replaces it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Device } from '../engine/device';
import { resolveSamplingParams } from '../engine/sampler';
import type { z } from 'zod';
import type { generationEvents, GenerationPrefillInput, GenerationStartInput } from '../ipc/contract-generation';
import { toErrorInfo } from '../ipc/router';
import type { Store } from '../store/store';
import { TsuzukiError } from '../util/errors';
import { RemoteRuntime, type RemoteGenerateResult } from './generation-remote';
import { DEFAULT_SETTINGS, SettingsService, type SamplingParams as AppSamplingParams } from './settings';

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
  store?: Store | null;
  /** The active preset's parameters; by default the store's active preset, else the model card's. */
  presetParams?: () => AppSamplingParams;
}

const DEFAULT_PARAMS = DEFAULT_SETTINGS.sampling.presets[0]!.params;

export class GenerationService {
  private runtime: { key: string; choice: ModelChoice; ready: Promise<RemoteRuntime> } | null = null;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: GenerationDeps) {}

  /** Validates the request, then generates in the background; returns at once with the id the events carry. */
  /** `lifetime` is the caller's (its window or connection): when it ends, the generation stops. */
  start(input: GenerationStartInput, emit: Emit, lifetime?: AbortSignal): { requestId: string } {
    const asked: AppSamplingParams = { ...this.preset(), ...definedOnly(input.params) };
    const sampling = resolveSamplingParams(asked);
    // Greedy decoding would give the same text n times: a preset's count of alternatives applies when it samples.
    const params = sampling.doSample ? asked : { ...asked, numAlternatives: 1 };
    if (params.minNewTokens > params.maxNewTokens) {
      throw new TsuzukiError('invalid_argument', `min_new_tokens (${params.minNewTokens}) is larger than max_new_tokens (${params.maxNewTokens}).`);
    }
    const seed = params.seed ?? randomInt(0, 2 ** 32);
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
            maxNewTokens: params.maxNewTokens,
            sampling,
            seed,
            n: params.numAlternatives,
            stopStrings: input.stopStrings,
            endOfSentence: input.stopAtSentenceEnd,
          },
          {
            signal: lifetime ? AbortSignal.any([controller.signal, lifetime]) : controller.signal,
            onDelta: (index, text) => emit('generation.delta', { requestId, index, text }),
          },
        );
        const ids = this.save(input, result, { params: { ...params, seed }, runtime, choice, requestId });
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
        });
      } catch (error) {
        emit('generation.error', { requestId, error: toErrorInfo(error) });
      } finally {
        this.running.delete(requestId);
      }
    })();
    return { requestId };
  }

  private preset(): AppSamplingParams {
    if (this.deps.presetParams) return this.deps.presetParams();
    return this.deps.store ? new SettingsService(this.deps.store).activeSampling() : DEFAULT_PARAMS;
  }

  cancel(requestId: string): { cancelled: boolean } {
    const controller = this.running.get(requestId);
    if (!controller || controller.signal.aborted) return { cancelled: false };
    controller.abort();
    return { cancelled: true };
  }

  /** Fills the KV cache for this context; the next start from it streams at once. A start cancels it. */
  async prefill(input: GenerationPrefillInput) {
    const maxNewTokens = input.maxNewTokens ?? this.preset().maxNewTokens;
    const { runtime } = await this.acquire();
    return runtime.prefill({ before: input.before, origin: input.beforeOffset, memo: input.memo, maxNewTokens });
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
  private save(
    input: GenerationStartInput,
    result: RemoteGenerateResult,
    info: { params: AppSamplingParams & { seed: number }; runtime: RemoteRuntime; choice: ModelChoice; requestId: string },
  ): (number | null)[] {
    const store = this.deps.store;
    if (!store) return result.alternatives.map(() => null);
    const { runtime } = info;
    return result.alternatives.map((a) => {
      if (a.finishReason === 'cancelled' && a.text === '') return null;
      return store.generations.insert({
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
      }).id;
    });
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
