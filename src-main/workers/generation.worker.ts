/** Hosts one GenerationRuntime (model, tokenizer, generator) for the main thread; see services/generation-remote.ts. */
import { parentPort } from 'node:worker_threads';
import { createRouter, type Handlers } from '../ipc/router';
import { servePort } from '../ipc/transport-port';
import { GenerationRuntime } from '../services/generation-runtime';
import { generationWorkerContract, type GenerationWorkerContract } from '../services/generation-worker-contract';
import { TsuzukiError } from '../contract/errors';

let runtime: GenerationRuntime | null = null;
/** Aborted by `runtime.close`, so that what still runs ends before the model is released. */
let closing = new AbortController();

function loaded(): GenerationRuntime {
  if (!runtime) throw new TsuzukiError('internal', 'No model is loaded in the generation worker.');
  return runtime;
}

const handlers: Handlers<GenerationWorkerContract> = {
  async 'runtime.open'({ dir, options }) {
    if (runtime) throw new TsuzukiError('internal', 'The generation worker already holds a model.');
    runtime = await GenerationRuntime.open(dir, options);
    closing = new AbortController();
    return {
      device: runtime.device,
      fallbackReason: runtime.fallbackReason,
      probe: runtime.probe,
      loadMs: runtime.loadMs,
      precision: runtime.manifest.precision,
      positions: runtime.generator.nPositions,
    };
  },
  async 'runtime.generate'(input, ctx) {
    const rt = loaded();
    const context = rt.context(promptOf(input));
    const result = await rt.generator.generate({
      promptIds: context.ids,
      maxNewTokens: input.maxNewTokens,
      sampling: input.sampling,
      seed: input.seed,
      n: input.n,
      stopStrings: input.stopStrings ?? [],
      endOfSentence: input.endOfSentence ?? false,
      createDecoder: () => rt.decoder(context.text),
      steering: input.steering ? rt.steering(input.steering, context.text) : null,
      allowSpecialTokens: input.allowSpecialTokens ?? false,
      signal: AbortSignal.any([ctx.signal, closing.signal]),
      ...(input.tokenProbabilities ? { probabilities: rt.probabilities() } : {}),
      onDelta: (index, text, tokens) => ctx.emit('runtime.delta', { index, text, ...(tokens ? { tokens } : {}) }),
    });
    return { ...result, context: { text: context.text, ids: context.ids, memoTokens: context.memoTokens, parts: context.parts } };
  },
  async 'runtime.prefill'(input, ctx) {
    const rt = loaded();
    const context = rt.context(promptOf(input));
    return rt.generator.prefill(context.ids, AbortSignal.any([ctx.signal, closing.signal]));
  },
  async 'runtime.context'(input) {
    const rt = loaded();
    return { parts: rt.context(promptOf(input)).parts, positions: rt.generator.nPositions };
  },
  async 'runtime.close'() {
    closing.abort(new TsuzukiError('cancelled', 'The model was closed.'));
    await runtime?.close();
    runtime = null;
    return null;
  },
};

/** The same context for a generation, a prefill and the context viewer, so the prefilled cache is the one used. */
function promptOf(input: Parameters<Handlers<GenerationWorkerContract>['runtime.prefill']>[0]): Parameters<GenerationRuntime['context']>[0] {
  const { before, origin = 0, memo = '', authorNote, book, maxNewTokens } = input;
  return { before, origin, memo, maxNewTokens, ...(authorNote ? { authorNote } : {}), ...(book ? { book } : {}) };
}

servePort(parentPort!, createRouter(generationWorkerContract, handlers));
