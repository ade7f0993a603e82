/**
 * Binds service handlers to the contract, independent of the transport. Every call is checked here: known channel,
 * payload schema, result schema. Answers are always `{ok: true, value}` or `{ok: false, error: {code, message}}`.
 * The transports (Electron IPC, WebSocket) authenticate the caller before they get here.
 */
import { z } from 'zod';
import { TsuzukiError } from '../util/errors';
import type { ContractShape, EventName, EventPayload, OutputOf, RequestName, Result } from './contract';

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

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(payload)'}: ${issue.message}`)
    .join('; ');
}

export function toErrorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof TsuzukiError) return { code: error.code, message: error.message };
  if (error instanceof z.ZodError) return { code: 'invalid_payload', message: describeIssues(error) };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message };
}

export function createRouter<C extends ContractShape>(contract: C, handlers: Handlers<C>): Router<C> {
  const has = (name: unknown): name is RequestName<C> =>
    typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract.requests, name);

  return {
    contract,
    async dispatch(channel, payload, ctx) {
      if (!has(channel)) {
        return { ok: false, error: { code: 'unknown_channel', message: `Unknown channel: ${String(channel).slice(0, 100)}` } };
      }
      const spec = contract.requests[channel]!;
      const input = spec.input.safeParse(payload);
      if (!input.success) {
        return { ok: false, error: { code: 'invalid_payload', message: `${channel}: ${describeIssues(input.error)}` } };
      }
      try {
        const value = await handlers[channel](input.data as never, ctx);
        const output = spec.output.safeParse(value);
        if (!output.success) {
          return { ok: false, error: { code: 'internal', message: `${channel} returned an invalid result: ${describeIssues(output.error)}` } };
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
