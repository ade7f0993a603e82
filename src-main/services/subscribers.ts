import type { Contract, EventName, EventPayload } from '../contract/contract';
import type { CallContext } from '../ipc/router';

/**
 * Windows (or WebSocket connections) that want an event stream not tied to one request, such as model job progress.
 * A caller is added when it asks (listing, starting a job) and removed when it goes away.
 */
export class Subscribers<E extends EventName> {
  private readonly contexts = new Set<CallContext<Contract>>();

  add(ctx: CallContext<Contract>): void {
    if (this.contexts.has(ctx) || ctx.signal.aborted) return;
    this.contexts.add(ctx);
    ctx.signal.addEventListener('abort', () => this.contexts.delete(ctx), { once: true });
  }

  send<K extends E>(event: K, payload: EventPayload<K>): void {
    for (const ctx of this.contexts) ctx.emit(event, payload);
  }
}
