/**
 * The one contract between the renderer and the main process: every request (call → result) and every event
 * (stream), with runtime schemas. The main process implements it with `satisfies Handlers`; the preload and the
 * renderer only `import type` from here.
 *
 * Request names are `<namespace>.<method>`; the client exposes them as `api.<namespace>.<method>(input)`.
 * Streams: a `*.start` request returns a `requestId`, events carry it, and a `*.cancel` request stops it.
 */
import { z } from 'zod';
import type { ErrorInfo } from './errors';
import { generationEvents, generationRequests } from './generation';
import { modelsEvents, modelsRequests } from './models';
import { storeRequests } from './store';

const empty = z.object({}).strict();

const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  platform: z.string(),
  arch: z.string(),
  node: z.string(),
  electron: z.string().nullable(),
  onnxruntime: z.object({
    version: z.string().nullable(),
    /** Execution providers this build of onnxruntime-node can use on this machine; `cpu` is always there. */
    providers: z.array(z.string()),
    /**
     * The devices this platform and this build provide (never DirectML off Windows nor CoreML off macOS), each
     * runnable now or not, and why not: the probe failed on it, or it computes slower than the CPU.
     */
    devices: z.array(
      z.object({ device: z.string(), runnable: z.boolean(), blocked: z.enum(['unavailable', 'slower']).nullable(), detail: z.string().nullable() }),
    ),
    /** What the WebGPU probe found, in words ("no adapter (no Vulkan driver found)", "slower than the CPU…"). */
    webgpu: z.string().nullable(),
    error: z.string().nullable(),
  }),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

const requests = {
  'app.info': { input: empty, output: appInfoSchema },
  ...storeRequests,
  ...generationRequests,
  ...modelsRequests,
  /** The renderer has saved everything after an `app.closing` event: the window may close now. */
  'app.closeReady': { input: empty, output: z.null() },
} as const;

const events = {
  /** The window is about to close (quit, or the close button): save now, then call `app.closeReady`. */
  'app.closing': z.object({}).strict(),
  ...generationEvents,
  ...modelsEvents,
} as const;

export const contract = { requests, events };

// ---- derived types (used by main, preload and renderer) ----

type RequestSpec = { input: z.ZodType; output: z.ZodType };
export type ContractShape = { requests: Record<string, RequestSpec>; events: Record<string, z.ZodType> };
export type Contract = typeof contract;

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export type RequestName<C extends ContractShape = Contract> = keyof C['requests'] & string;
export type EventName<C extends ContractShape = Contract> = keyof C['events'] & string;
export type InputOf<K extends RequestName<C>, C extends ContractShape = Contract> = z.input<C['requests'][K]['input']>;
export type OutputOf<K extends RequestName<C>, C extends ContractShape = Contract> = z.output<C['requests'][K]['output']>;
export type EventPayload<K extends EventName<C>, C extends ContractShape = Contract> = z.output<C['events'][K]>;

type Namespace<N extends string> = N extends `${infer NS}.${string}` ? NS : never;
type Method<N extends string, NS extends string> = N extends `${NS}.${infer M}` ? M : never;

/** What `window.tsuzuki` (Electron) and the WebSocket client both provide: raw results, never throws. */
export type RawApi<C extends ContractShape = Contract> = {
  [NS in Namespace<RequestName<C>>]: {
    [M in Method<RequestName<C>, NS>]: (
      input: InputOf<`${NS}.${M}` & RequestName<C>, C>,
    ) => Promise<Result<OutputOf<`${NS}.${M}` & RequestName<C>, C>>>;
  };
} & {
  on<E extends EventName<C>>(event: E, listener: (payload: EventPayload<E, C>) => void): () => void;
};
