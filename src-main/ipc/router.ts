/**
 * Binds service handlers to the contract, independent of the transport. Every call is checked here: known channel,
 * payload schema, result schema. Answers are always `{ok: true, value}` or `{ok: false, error: {code, message}}`.
 * The transports (Electron IPC, WebSocket) authenticate the caller before they get here.
 */
import type { z } from 'zod';
import { toErrorInfo, TsuzukiError } from '../contract/errors';
import { paramBoundsMessage } from '../contract/generation-params-schema';
import type { ContractShape, EventName, EventPayload, OutputOf, RequestName, Result } from '../contract/contract';

export interface CallContext<C extends ContractShape> {
  /** Sends an event to the caller's window/connection only. */
  emit<E extends EventName<C>>(event: E, payload: EventPayload<E, C>): void;
  /** Aborted when the caller goes away (window closed, socket dropped): long-running work should stop. */
  signal: AbortSignal;
}

export type Handlers<C extends ContractShape> = {
  [K in RequestName<C>]: (
    input: z.output<C['requests'][K]['input']>,
    ctx: CallContext<C>,
  ) => Promise<OutputOf<K, C>> | OutputOf<K, C>;
};

export interface Router<C extends ContractShape> {
  contract: C;
  dispatch(channel: unknown, payload: unknown, ctx: CallContext<C>): Promise<Result<unknown>>;
  /** Validates an event payload before a transport sends it; throws on a contract violation (a bug in main). */
  checkEvent(event: string, payload: unknown): unknown;
}

export function createRouter<C extends ContractShape>(contract: C, handlers: Handlers<C>): Router<C> {
  const has = (name: unknown): name is RequestName<C> =>
    typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract.requests, name);

  return {
    contract,
    async dispatch(channel, payload, ctx) {
      // The channel comes from outside: it is printed only when it is a string.
      if (!has(channel)) {
        const name = typeof channel === 'string' ? channel.slice(0, 100) : `(${typeof channel})`;
        return { ok: false, error: { code: 'unknown_channel', message: `Unknown channel: ${name}` } };
      }
      const spec = contract.requests[channel]!;
      try {
        const input = spec.input.safeParse(payload);
        if (!input.success) {
          // A generation parameter out of its bound is the writer's value, not a malformed frame: it reads as every
          // other door says it (the CLI, the engine), so the UI can point at the setting.
          const bounds = paramBoundsMessage(input.error);
          if (bounds !== null) return { ok: false, error: { code: 'invalid_argument', message: bounds } };
          return { ok: false, error: { code: 'invalid_payload', message: `${channel}: ${toErrorInfo(input.error).message}` } };
        }
        const value = await handlers[channel](input.data as never, ctx);
        const output = spec.output.safeParse(value);
        if (!output.success) {
          return { ok: false, error: { code: 'internal', message: `${channel} returned an invalid result: ${toErrorInfo(output.error).message}` } };
        }
        return { ok: true, value: output.data };
      } catch (error) {
        return { ok: false, error: toErrorInfo(error) };
      }
    },
    checkEvent(event, payload) {
      const schema = (contract.events as Record<string, z.ZodType>)[event];
      if (!schema) throw new TsuzukiError('unknown_channel', `Unknown event: ${event}`);
      return schema.parse(payload);
    },
  };
}
