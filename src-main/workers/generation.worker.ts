/** Hosts one GenerationRuntime (model, tokenizer, generator) for the main thread; see services/generation-remote.ts. */
import { parentPort } from 'node:worker_threads';
import type { WorkerMessage, WorkerRequest } from '../services/generation-remote';
import { GenerationRuntime } from '../services/generation-runtime';
import { TsuzukiError } from '../util/errors';

const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);
const postError = (id: number | null, error: unknown) =>
  post({
    type: 'error',
    id,
    code: error instanceof TsuzukiError ? error.code : 'internal',
    message: error instanceof Error ? error.message : String(error),
  });

let runtime: GenerationRuntime | null = null;
const controllers = new Map<number, AbortController>();

async function handle(m: WorkerRequest): Promise<void> {
  switch (m.type) {
    case 'open': {
      runtime = await GenerationRuntime.open(m.dir, m.options);
      post({
        type: 'opened',
        info: {
          device: runtime.device,
          fallbackReason: runtime.fallbackReason,
          loadMs: runtime.loadMs,
          precision: runtime.manifest.precision,
          positions: runtime.generator.nPositions,
        },
      });
      return;
    }
    case 'cancel':
      controllers.get(m.id)?.abort();
      return;
    case 'close':
      for (const c of controllers.values()) c.abort();
      await runtime?.close();
      runtime = null;
      post({ type: 'closed' });
      return;
    case 'generate':
    case 'prefill': {
      const controller = new AbortController();
      controllers.set(m.id, controller);
      try {
        if (!runtime) throw new TsuzukiError('internal', 'No model is loaded in the generation worker.');
        const rt = runtime;
        const { input } = m;
        const context = rt.context({ before: input.before, origin: input.origin ?? 0, memo: input.memo ?? '', maxNewTokens: input.maxNewTokens });
        if (m.type === 'prefill') {
          post({ type: 'done', id: m.id, result: await rt.generator.prefill(context.ids, controller.signal) });
          return;
        }
        const g = m.input;
        const result = await rt.generator.generate({
          promptIds: context.ids,
          maxNewTokens: g.maxNewTokens,
          sampling: g.sampling,
          seed: g.seed,
          n: g.n,
          stopStrings: g.stopStrings ?? [],
          endOfSentence: g.endOfSentence ?? false,
          createDecoder: () => rt.decoder(context.text),
          signal: controller.signal,
          onDelta: (index, text) => post({ type: 'delta', id: m.id, index, text }),
        });
        post({ type: 'done', id: m.id, result: { ...result, context: { text: context.text, ids: context.ids, memoTokens: context.memoTokens } } });
      } finally {
        controllers.delete(m.id);
      }
      return;
    }
  }
}

port.on('message', (m: WorkerRequest) => {
  handle(m).catch((error: unknown) => postError('id' in m ? m.id : null, error));
});
