import { io, type Socket } from 'socket.io-client';

/**
 * The real-time client runtime, typed by the generated event maps. It reconnects by itself with
 * exponential backoff (1 s doubling to 30 s, ±50 % jitter), authenticates every (re)connection
 * with a fresh access token (refreshing it when the server says it expired, at the handshake or
 * when the server closes a socket whose token ran out), rejoins its rooms, runs `resync` after
 * each reconnection so the app can fetch what it missed, and retries an unacknowledged event
 * until acked: send events carry a client key, so a resend is not stored twice.
 */
/**
 * `tokenExpired` and `Ack` of the contract runtime, restated: this file is copied into the generated
 * client, which imports nothing but socket.io-client.
 */
const TOKEN_EXPIRED_EVENT = 'token:expired';

export type Ack<T> =
  | { ok: true; data: T }
  | { ok: false; error: { code: string; message: string; errors?: { path: string; code: string; message: string }[] } };

/** Client events by name: what is sent and the data its ack carries (interfaces fit: no index signature needed). */
export type EventMap<C> = { [K in keyof C]: { payload: unknown; ack: unknown } };

export interface RealtimeClientOptions {
  baseUrl: string;
  path: string;
  tokens: { getAccessToken(): string | null | undefined | Promise<string | null | undefined>; refresh?(): Promise<boolean> };
  reconnectionDelayMs?: number;
  reconnectionDelayMaxMs?: number;
  /** How long to wait for an ack before sending again. */
  ackTimeoutMs?: number;
  /** How many times an unacknowledged event is sent again. */
  retries?: number;
  /** Runs after every reconnection (not the first connection): catch up on what was missed. */
  resync?: () => Promise<void>;
  /** Test seam: the socket.io-client factory. */
  connect?: typeof io;
}

export class RealtimeError extends Error {
  override readonly name = 'RealtimeError';
  constructor(
    readonly code: string,
    message: string,
    readonly errors?: { path: string; code: string; message: string }[],
  ) {
    super(message);
  }
}

export interface RealtimeClient<C extends EventMap<C>, S extends object> {
  /** Sends an event; resolves with the ack's data, rejects with a RealtimeError carrying its code. */
  emit<K extends keyof C & string>(event: K, payload: C[K]['payload']): Promise<C[K]['ack']>;
  on<K extends keyof S & string>(event: K, listener: (payload: S[K]) => void): () => void;
  /** Joins a room, and joins it again after every reconnection. */
  join(room: string): Promise<void>;
  leave(room: string): Promise<void>;
  readonly connected: boolean;
  readonly socket: Socket;
  close(): void;
}

export function createRealtimeClient<C extends EventMap<C>, S extends object>(options: RealtimeClientOptions): RealtimeClient<C, S> {
  const rooms = new Set<string>();
  let sentToken: string | undefined;
  let closed = false;
  const socket = (options.connect ?? io)(options.baseUrl, {
    path: options.path,
    transports: ['websocket'],
    reconnectionDelay: options.reconnectionDelayMs ?? 1000,
    reconnectionDelayMax: options.reconnectionDelayMaxMs ?? 30_000,
    randomizationFactor: 0.5,
    ackTimeout: options.ackTimeoutMs ?? 10_000,
    retries: options.retries ?? 5,
    auth: (send) => {
      Promise.resolve(options.tokens.getAccessToken()).then(
        (token) => {
          sentToken = token ?? undefined;
          send({ token });
        },
        () => send({}),
      );
    },
  });

  let connectedBefore = false;
  socket.on('connect', () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    void (async () => {
      for (const room of rooms) await call('room:join', { room }).catch(() => rooms.delete(room));
      await options.resync?.();
    })();
  });

  // Neither a refused handshake nor a server-side disconnect is retried by Socket.IO: when the
  // token expired, refresh it (unless someone sharing the token store, the HTTP client say, already
  // has) and connect again. The server says `token:expired` before closing a socket at its token's exp.
  const renewAndConnect = () => {
    void (async () => {
      const current = await options.tokens.getAccessToken();
      const renewed = (current != null && current !== sentToken) || (options.tokens.refresh ? await options.tokens.refresh() : false);
      if (renewed && !closed) socket.connect();
    })().catch(() => undefined);
  };
  socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
    if (error.data?.code === 'TOKEN_EXPIRED') renewAndConnect();
  });
  let expired = false;
  socket.on(TOKEN_EXPIRED_EVENT, () => {
    expired = true;
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io server disconnect' || !expired) return;
    expired = false;
    renewAndConnect();
  });

  async function call(event: string, payload: unknown): Promise<unknown> {
    const answer = (await socket.emitWithAck(event, payload)) as Ack<unknown>;
    if (answer.ok) return answer.data;
    throw new RealtimeError(answer.error.code, answer.error.message, answer.error.errors);
  }

  return {
    emit: (event, payload) => call(event, payload) as never,
    on(event, listener) {
      const handler = listener as (...args: unknown[]) => void;
      socket.on(event as string, handler);
      return () => void socket.off(event as string, handler);
    },
    async join(room) {
      await call('room:join', { room });
      rooms.add(room);
    },
    async leave(room) {
      rooms.delete(room);
      await call('room:leave', { room });
    },
    get connected() {
      return socket.connected;
    },
    socket,
    close() {
      closed = true;
      socket.disconnect();
    },
  };
}
