/**
 * The renderer's one client of the main process. Inside Electron it uses `window.tsuzuki` (the preload);
 * in a browser (`tsuzuki serve`) it speaks the same contract over a WebSocket, with the token from the page URL.
 * Calls resolve to the value or throw an ApiError with the contract's error code.
 */
import type { ErrorCode, ErrorInfo } from '../../src-main/contract/errors';
import type {
  EventName,
  EventPayload,
  InputOf,
  OutputOf,
  RawApi,
  RequestName,
  Result,
} from '../../src-main/contract/contract';

declare global {
  interface Window {
    tsuzuki?: RawApi;
  }
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Namespace<N extends string> = N extends `${infer NS}.${string}` ? NS : never;
type Method<N extends string, NS extends string> = N extends `${NS}.${infer M}` ? M : never;

export type Api = {
  [NS in Namespace<RequestName>]: {
    [M in Method<RequestName, NS>]: (
      input: InputOf<`${NS}.${M}` & RequestName>,
    ) => Promise<OutputOf<`${NS}.${M}` & RequestName>>;
  };
} & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
};

interface Transport {
  call(channel: string, input: unknown): Promise<Result<unknown>>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

function electronTransport(raw: RawApi): Transport {
  const table = raw as unknown as Record<string, Record<string, (input: unknown) => Promise<Result<unknown>>>>;
  return {
    call(channel, input) {
      const [ns, method] = channel.split('.') as [string, string];
      const fn = table[ns]?.[method];
      if (!fn) return Promise.resolve({ ok: false, error: { code: 'unknown_channel', message: channel } });
      return fn(input);
    },
    on: (event, listener) => raw.on(event as EventName, listener as never),
  };
}

/** How the renderer is connected to the services: always 'connected' inside Electron. */
type ConnectionState = 'connecting' | 'connected' | 'lost';

function connectionSignal() {
  let state: ConnectionState = 'connecting';
  const listeners = new Set<(state: ConnectionState) => void>();
  return {
    get state() {
      return state;
    },
    set(next: ConnectionState) {
      if (next === state) return;
      state = next;
      listeners.forEach((listener) => listener(next));
    },
    on(listener: (state: ConnectionState) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const connection = connectionSignal();

const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 4000;
/** A call made while the socket is down waits this long for it to come back, then fails. */
const CALL_WAIT_MS = 4000;

/**
 * The same contract over a WebSocket. When the socket closes, every call waiting for its answer fails with
 * `disconnected` (the server will never answer it), and the socket is opened again with backoff on the same URL and
 * token; listeners are kept here, so event subscriptions survive. The server sends every event to every connection.
 */
function webSocketTransport(url: string): Transport {
  let nextId = 1;
  let socket: WebSocket;
  let failures = 0;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const waiting = new Set<() => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  // The detail, English like every service message; the sentence the writer reads comes from the catalogue.
  const disconnected: ErrorInfo = { code: 'disconnected', message: 'The connection to the Tsuzuki server is closed.' };

  function connect() {
    socket = new WebSocket(url);
    socket.addEventListener('open', () => {
      failures = 0;
      connection.set('connected');
      waiting.forEach((wake) => wake());
    });
    socket.addEventListener('message', (message) => {
      let data: { type?: unknown; id?: unknown; result?: Result<unknown>; event?: unknown; payload?: unknown };
      try {
        data = JSON.parse(String(message.data)) as typeof data;
      } catch {
        return;
      }
      if (data.type === 'result' && typeof data.id === 'number') {
        pending.get(data.id)?.(data.result!);
        pending.delete(data.id);
      } else if (data.type === 'event' && typeof data.event === 'string') {
        listeners.get(data.event)?.forEach((listener) => listener(data.payload));
      }
    });
    socket.addEventListener('close', () => {
      pending.forEach((resolve) => resolve({ ok: false, error: disconnected }));
      pending.clear();
      connection.set('lost');
      setTimeout(connect, Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** failures++));
    });
  }
  connect();

  function isOpen(): Promise<boolean> {
    if (socket.readyState === WebSocket.OPEN) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiting.delete(wake);
        resolve(false);
      }, CALL_WAIT_MS);
      waiting.add(wake);
    });
  }

  return {
    async call(channel, input) {
      if (!(await isOpen())) return { ok: false, error: disconnected };
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        socket.send(JSON.stringify({ type: 'call', id, channel, payload: input }));
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}

function pickTransport(): Transport {
  if (window.tsuzuki) {
    connection.set('connected');
    return electronTransport(window.tsuzuki);
  }
  const token = new URLSearchParams(location.search).get('token') ?? '';
  return webSocketTransport(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
}

function createApi(transport: Transport): Api {
  const namespaces = new Map<string, object>();
  const on = transport.on.bind(transport);
  return new Proxy({} as Api, {
    get(_target, ns: string) {
      if (ns === 'on') return on;
      let group = namespaces.get(ns);
      if (!group) {
        group = new Proxy({}, {
          get: (_t, method: string) => async (input: unknown) => {
            const result = await transport.call(`${ns}.${method}`, input);
            if (!result.ok) throw new ApiError(result.error.code, result.error.message);
            return result.value;
          },
        });
        namespaces.set(ns, group);
      }
      return group;
    },
  });
}

export const api: Api = createApi(pickTransport());
