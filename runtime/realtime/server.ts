import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import { rateLimitsOf, runtimeErrors, tokenExpired, type Ack, type ClientEvent, type ErrorRegistry, type ServerEvent } from '../contract';
import { ApiError } from '../core/api-error';
import { checkOutput, createCore, type CompiledOperation } from '../core/operation';
import { sharedLimiters, type LimiterFactory } from '../core/rate-limit';
import { boundFieldErrors } from '../core/validation';
import { bearerToken, type AuthUser, type TokenVerifier } from '../server/auth';
import { report, type UnexpectedErrorHook } from '../server/error-hook';
import { gauge, type Metrics } from '../server/metrics';
import { activeTracer, endEventSpan, startEventSpan, userHasher } from '../server/tracing';
import { connectionCaps, DEFAULT_MAX_SOCKETS_PER_ADDRESS, DEFAULT_MAX_SOCKETS_PER_USER } from './connection-caps';
import type { PresenceStore } from './presence';

/**
 * The real-time runtime on Socket.IO: the handshake authenticates with the same access-token
 * verifier as HTTP, and a socket lives no longer than its token (at `exp` it gets `token:expired`
 * and is disconnected, so the client refreshes and connects again); sockets are capped per user
 * and per address; every inbound event is rate-limited and validated against its contract and
 * answered with an ack `{ ok, data | error }`; rooms are joined only when `authorizeRoom` allows;
 * presence counts devices; a revoked session's sockets can be disconnected at once.
 *
 * A refused handshake's `connect_error` carries `data: { code, message }`: UNAUTHENTICATED,
 * TOKEN_EXPIRED (refresh, then connect again) or TOO_MANY_CONNECTIONS.
 */
export interface RealtimeContext {
  user: AuthUser;
  socketId: string;
  /** The client's address as the socket saw it. */
  ip: string;
  log: Logger;
}

export type EventHandler = (payload: never, ctx: RealtimeContext) => unknown;

export interface RealtimeOptions {
  path: string;
  verifier: TokenVerifier;
  clientEvents: readonly ClientEvent[];
  serverEvents: readonly ServerEvent[];
  /** Handlers of the client events, by event name (the generated RealtimeHandlers; room events are built in). */
  handlers: object;
  /**
   * Whether a user may join a room (`conversation:{id}`, …), or list who is in it; `user:{id}` is the
   * user's own and always joined. Throw an ApiError to refuse with a message of your own.
   */
  authorizeRoom: (user: AuthUser, room: string, action: 'join' | 'members') => boolean | Promise<boolean>;
  /** Of these users, those whose presence `viewer` may see: `room:members` lists only them (and the viewer). Everyone by default. */
  visibleUsers?: (viewer: AuthUser, userIds: string[]) => readonly string[] | Promise<readonly string[]>;
  presence: PresenceStore;
  /** Told when a user goes online (first device) or offline (last device, `at` = last seen). */
  onPresence?: (userId: string, status: 'online' | 'offline', at: Date) => Promise<void> | void;
  log: Logger;
  /** Told of a handler's unexpected error, as the HTTP app's hook is (createApp's `onUnexpectedError`). */
  onUnexpectedError?: UnexpectedErrorHook;
  /**
   * Recognises an outage of something the handlers depend on (createApp's `unavailable`): the event
   * is refused with the error returned (`SERVICE_UNAVAILABLE`) rather than INTERNAL, and not reported.
   */
  unavailable?: (error: unknown) => ApiError | undefined;
  /** The HTTP app's metrics, to count sockets and events beside its requests (`realtime_sockets`, `realtime_events_total`). */
  metrics?: Metrics;
  corsOrigins: string[];
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  maxPayloadBytes?: number;
  /** Store of the events' rate-limit counters: memory by default, Redis to share them. */
  limiters?: LimiterFactory;
  /**
   * The API's domain error codes with their statuses: the client-failure rule of failure-only
   * limits reads them, and a code not registered is answered as INTERNAL, as over HTTP.
   */
  errors: ErrorRegistry;
  /** A Socket.IO adapter (Redis) so rooms span instances. */
  adapter?: Parameters<Server['adapter']>[0];
  /** The client's address from the handshake request (behind a proxy, as the HTTP app trusts it); the peer address by default. */
  clientAddress?: (request: IncomingMessage) => string | undefined;
  /** Sockets one user may hold on this instance (all sessions and devices); 20 by default. */
  maxSocketsPerUser?: number;
  /** Sockets one client address may hold on this instance; 100 by default. */
  maxSocketsPerAddress?: number;
  /** The key of the user's hash on event spans: the HTTP app's (createApp's `traceUserKey`), for one user to have one hash. */
  traceUserKey?: Uint8Array;
}

export interface Realtime {
  io: Server;
  toUsers(userIds: readonly string[], event: string, payload: unknown): void;
  /** Sends a server event to every socket in a room, but the sockets of the users in `exceptUserIds`. */
  toRoom(room: string, event: string, payload: unknown, exceptUserIds?: readonly string[]): void;
  /** Takes every socket of these users out of a room, on every instance (they lost the right to be in it). */
  removeFromRoom(userIds: readonly string[], room: string): void;
  /** Closes every socket of a session, on every instance. */
  disconnectSession(sessionId: string): void;
  /** Connected sockets and distinct users, on every instance. */
  liveCounts(): Promise<{ sockets: number; users: number }>;
  close(): Promise<void>;
}

export const userRoom = (userId: string) => `user:${userId}`;
const sessionRoom = (sessionId: string) => `session:${sessionId}`;
const ROOM = /^[a-z]+:[A-Za-z0-9-]{1,100}$/;
/** How often presence the store did not take is offered to it again. */
const PRESENCE_RETRY_MS = 1000;
/** Presence changes kept for the store, at most (a long outage with sockets coming and going). */
const MAX_UNTAKEN = 10_000;

export function attachRealtime(httpServer: HttpServer, options: RealtimeOptions): Realtime {
  const io = new Server(httpServer, {
    path: options.path,
    pingInterval: options.pingIntervalMs ?? 30_000,
    pingTimeout: options.pingTimeoutMs ?? 20_000,
    maxHttpBufferSize: options.maxPayloadBytes ?? 64 * 1024,
    serveClient: false,
    cors: { origin: options.corsOrigins.includes('*') ? '*' : options.corsOrigins },
  });
  if (options.adapter) io.adapter(options.adapter);
  const { log } = options;
  const serverEventNames = new Set(options.serverEvents.map((e) => e.name));
  // Events run through the same core as HTTP operations: limits, validation, the client-failure rule, the output check.
  const registry: ErrorRegistry = { ...runtimeErrors, ...options.errors };
  const core = createCore({
    limiters: options.limiters ?? sharedLimiters(),
    errors: registry,
    onRateLimited: (operation, { subject }, refusal) => {
      options.metrics?.rateLimited(operation.spec.name, refusal.extra.limit ?? operation.spec.name);
      log.warn(
        { security: 'rate_limited', event: operation.spec.name, userId: subject.userId, ip: subject.ip },
        `security: rate limit reached for ${operation.spec.name}`,
      );
    },
  });
  const operations = new Map<string, CompiledOperation>();
  for (const event of options.clientEvents) {
    operations.set(
      event.name,
      core.compile({
        name: event.name,
        rateLimits: rateLimitsOf(event),
        parts: ['payload'],
        input: { payload: event.payload },
        output: (result) => checkOutput(event.name, event.ack as z.ZodType, result),
      }),
    );
  }
  const caps = connectionCaps({
    perUser: options.maxSocketsPerUser ?? DEFAULT_MAX_SOCKETS_PER_USER,
    perAddress: options.maxSocketsPerAddress ?? DEFAULT_MAX_SOCKETS_PER_ADDRESS,
  });
  const release = (socket: Socket) => caps.release(socket.id, (socket.data.user as AuthUser).id, socket.data.ip as string);
  const hashUser = userHasher(options.traceUserKey);

  io.use((socket, next) => {
    const ip = options.clientAddress?.(socket.request) ?? socket.handshake.address;
    // A refused handshake is logged at debug: who (when known), from where, and why.
    const refuse = (code: string, message: string, userId?: string) => {
      log.debug({ code, ip, userId }, 'socket refused');
      next(handshakeError(code, message));
    };
    const crowded = caps.refusal(ip);
    if (crowded) return refuse('TOO_MANY_CONNECTIONS', crowded);
    const auth = socket.handshake.auth as { token?: unknown };
    const token = typeof auth.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
    if (!token) return refuse('UNAUTHENTICATED', 'A valid access token is required');
    options.verifier.verify(token).then(
      (user) => {
        const refused = caps.refusal(ip, user.id);
        if (refused) return refuse('TOO_MANY_CONNECTIONS', refused, user.id);
        socket.data.user = user;
        socket.data.ip = ip;
        socket.data.expiresAt = expiryOf(token);
        // Held from here, not from 'connection': handshakes verified together must see each other.
        // A connection that closes before it is established never says 'disconnect'; its close does.
        if (socket.conn.readyState === 'open') {
          caps.hold(socket.id, user.id, ip);
          socket.conn.once('close', () => release(socket));
        }
        next();
      },
      (error: unknown) => {
        const code = error instanceof ApiError ? error.code : 'UNAUTHENTICATED';
        refuse(code, error instanceof ApiError && error.detail ? error.detail : 'A valid access token is required');
      },
    );
  });

  // Keep this instance's sockets alive in a presence store that expires the sockets of dead instances.
  const keepAlive =
    options.presence.refreshEveryMs === undefined
      ? undefined
      : setInterval(() => {
          const sockets = [...io.of('/').sockets.values()].map((s) => ({ userId: (s.data.user as AuthUser).id, socketId: s.id }));
          options.presence.refresh(sockets).catch((error: unknown) => {
            log.error({ err: error }, 'presence refresh failed');
            // Their entries may expire meanwhile: recorded again once the store answers.
            for (const { userId, socketId } of sockets) if (!untaken.has(socketId)) offerAgain(socketId, { userId });
          });
        }, options.presence.refreshEveryMs);
  keepAlive?.unref();

  // Presence changes the store did not take (it was out of reach), by socket: offered again every
  // PRESENCE_RETRY_MS until it takes them, so a user who connected during an outage shows online
  // after it, and one who left during it shows offline, last seen when they left (not online until
  // the store expires the entry).
  const untaken = new Map<string, { userId: string; leftAt?: Date }>();
  let droppedUntaken = false;
  function offerAgain(socketId: string, change: { userId: string; leftAt?: Date }): void {
    untaken.set(socketId, change);
    if (untaken.size <= MAX_UNTAKEN) return;
    // The oldest goes (said once per outage): a leave's entry expires in the store by itself, as a dead
    // instance's do; a connect's user shows offline until that socket reconnects.
    const [oldest] = untaken.keys();
    untaken.delete(oldest!);
    if (!droppedUntaken) log.warn({ kept: MAX_UNTAKEN }, 'presence changes the store did not take are dropped, oldest first');
    droppedUntaken = true;
  }
  const presenceRetry = setInterval(() => {
    if (untaken.size === 0) droppedUntaken = false;
    for (const [socketId, { userId, leftAt }] of untaken) {
      untaken.delete(socketId);
      // Quietly: the first failure was logged, and the outage is (rate limits, adapter).
      if (leftAt) recordLeaving(userId, socketId, leftAt, false);
      else recordPresence(userId, socketId, false);
    }
  }, PRESENCE_RETRY_MS);
  presenceRetry.unref();
  function recordPresence(userId: string, socketId: string, logFailure = true): void {
    presenceChange(
      userId,
      () =>
        options.presence.connect(userId, socketId).catch((error: unknown) => {
          if (io.of('/').sockets.has(socketId) && !untaken.has(socketId)) offerAgain(socketId, { userId });
          if (logFailure) throw error;
          return false;
        }),
      'online',
    );
  }
  function recordLeaving(userId: string, socketId: string, leftAt: Date, logFailure = true): void {
    presenceChange(
      userId,
      () =>
        options.presence.disconnect(userId, socketId, leftAt).catch((error: unknown) => {
          offerAgain(socketId, { userId, leftAt });
          if (logFailure) throw error;
          return null;
        }),
      'offline',
    );
  }

  const builtIns: Record<string, (socket: Socket, user: AuthUser, payload: { room: string }) => Promise<unknown>> = {
    'room:join': async (socket, user, { room }) => {
      if (!(await roomAllowed(user, room, 'join'))) throw new ApiError('FORBIDDEN', `You may not join ${room}`);
      await socket.join(room);
      return { room };
    },
    'room:leave': async (socket, _user, { room }) => {
      // The user's and session's own rooms carry revocation and personal events: never left.
      if (room.startsWith('user:') || room.startsWith('session:')) throw new ApiError('FORBIDDEN', `You may not leave ${room}`);
      await socket.leave(room);
      return { room };
    },
    'room:members': async (_socket, user, { room }) => {
      if (!(await roomAllowed(user, room, 'members'))) throw new ApiError('FORBIDDEN', `You may not see ${room}`);
      const sockets = await io.in(room).fetchSockets();
      const others = [...new Set(sockets.map((s) => (s.data.user as AuthUser).id))].filter((id) => id !== user.id);
      const visible = new Set(options.visibleUsers ? await options.visibleUsers(user, others) : others);
      const listed = new Set(others.filter((id) => visible.has(id)));
      if (sockets.some((s) => (s.data.user as AuthUser).id === user.id)) listed.add(user.id);
      return { room, userIds: [...listed].sort() };
    },
  };
  /** Each client event this server answers, with its handler: the runtime's room events, or the app's. */
  const servedEvents = new Map<
    string,
    { event: ClientEvent; builtIn?: (typeof builtIns)[string]; handler?: (payload: unknown, ctx: RealtimeContext) => unknown }
  >();
  for (const event of options.clientEvents) {
    const builtIn = builtIns[event.name];
    const handler = (options.handlers as Record<string, EventHandler | undefined>)[event.name];
    if (builtIn) servedEvents.set(event.name, { event, builtIn });
    else if (handler) servedEvents.set(event.name, { event, handler: handler as (payload: unknown, ctx: RealtimeContext) => unknown });
  }

  if (options.metrics) gauge(options.metrics, 'realtime_sockets', 'Sockets connected to this instance', () => io.of('/').sockets.size);

  // Every socket is closed when its access token expires: one timer for all of them.
  const expiries = expiryQueue((socket) => expire(socket));

  io.on('connection', (socket) => {
    const user = socket.data.user as AuthUser;
    const expiresAt = socket.data.expiresAt as number | undefined;
    void socket.join(userRoom(user.id));
    if (user.sessionId) void socket.join(sessionRoom(user.sessionId));
    const ctx: RealtimeContext = { user, socketId: socket.id, ip: socket.data.ip as string, log };
    recordPresence(user.id, socket.id);
    if (expiresAt !== undefined) expiries.add(socket, expiresAt);
    log.debug({ userId: user.id, socketId: socket.id, ip: ctx.ip }, 'socket connected');
    socket.on('disconnect', (reason) => {
      log.debug({ userId: user.id, socketId: socket.id, reason }, 'socket disconnected');
      release(socket);
      if (expiresAt !== undefined) expiries.remove(socket, expiresAt);
      untaken.delete(socket.id);
      recordLeaving(user.id, socket.id, new Date());
    });

    // One listener for every event (not one closure per event and socket: an idle socket's memory).
    socket.onAny((name: string, payload: unknown, ack: unknown) => {
      const served = servedEvents.get(name);
      if (!served) return;
      const reply = typeof ack === 'function' ? (ack as (answer: Ack<unknown>) => void) : undefined;
      // A timer can fire late on a busy machine: nothing is served on an expired token meanwhile.
      // No ack: a client that retries unacknowledged events sends it again once reconnected.
      if (expiresAt !== undefined && Date.now() >= expiresAt) return expire(socket);
      const handler = served.builtIn ? (input: unknown) => served.builtIn!(socket, user, input as { room: string }) : served.handler!;
      serveEvent(served.event, handler, payload, ctx, reply);
    });
  });

  /** Tells the client why (so it refreshes its token and comes back), then closes the connection. */
  function expire(socket: Socket): void {
    if (!socket.connected) return;
    socket.emit(tokenExpired.name, { code: 'TOKEN_EXPIRED', message: EXPIRED_MESSAGE });
    socket.disconnect(true);
  }

  async function roomAllowed(user: AuthUser, room: string, action: 'join' | 'members'): Promise<boolean> {
    if (!ROOM.test(room)) return false;
    if (room === userRoom(user.id)) return true;
    if (room.startsWith('user:') || room.startsWith('session:')) return false;
    return options.authorizeRoom(user, room, action);
  }

  /** Answers an event; while tracing is on, in a span of its own that its handler's spans are children of. */
  function serveEvent(
    event: ClientEvent,
    handler: (payload: unknown, ctx: RealtimeContext) => unknown,
    payload: unknown,
    ctx: RealtimeContext,
    reply: ((answer: Ack<unknown>) => void) | undefined,
  ): void {
    const tracer = activeTracer();
    if (!tracer) {
      void answer(event, handler, payload, ctx, reply);
      return;
    }
    const span = startEventSpan(tracer, event.name, hashUser(ctx.user.id), ctx.ip);
    void context.with(trace.setSpan(ROOT_CONTEXT, span), answer, undefined, event, handler, payload, ctx, reply).then(
      (outcome) => endEventSpan(span, outcome),
      () => endEventSpan(span, 'INTERNAL'),
    );
  }

  /** Runs an event and acks it; resolves with its outcome (`ok`, or the code it was refused with). */
  async function answer(
    event: ClientEvent,
    handler: (payload: unknown, ctx: RealtimeContext) => unknown,
    payload: unknown,
    ctx: RealtimeContext,
    reply: ((answer: Ack<unknown>) => void) | undefined,
  ): Promise<string> {
    try {
      const { value } = await core.execute(operations.get(event.name)!, {
        subject: { ip: ctx.ip, userId: ctx.user.id, body: undefined },
        read: () => payload,
        handler: (input) => handler(input.payload, ctx),
      });
      reply?.({ ok: true, data: value });
      options.metrics?.socketEvent(event.name, 'ok');
      return 'ok';
    } catch (caught) {
      const outage = caught instanceof ApiError ? undefined : options.unavailable?.(caught);
      if (outage) log.warn({ err: caught, event: event.name, userId: ctx.user.id }, 'dependency unavailable');
      const error = outage ?? caught;
      const outcome = error instanceof ApiError && registry[error.code] ? error.code : 'INTERNAL';
      options.metrics?.socketEvent(event.name, outcome);
      if (error instanceof ApiError && registry[error.code]) {
        const fields = error.extra.errors?.length ? boundFieldErrors(error.extra.errors).errors : undefined;
        log.debug({ event: event.name, userId: ctx.user.id, code: error.code }, 'socket event refused');
        reply?.({ ok: false, error: { code: error.code, message: error.detail ?? error.code, ...(fields ? { errors: fields } : {}) } });
        return outcome;
      }
      log.error({ err: error, event: event.name, userId: ctx.user.id }, 'real-time handler failed');
      report(options.onUnexpectedError, log, error, { event: event.name, userId: ctx.user.id });
      reply?.({ ok: false, error: { code: 'INTERNAL', message: 'An unexpected error occurred' } });
      return outcome;
    }
  }

  // Presence work still running: close() waits for it before the adapter's connections go.
  const pending = new Set<Promise<void>>();
  function presenceChange(userId: string, change: () => Promise<Date | boolean | null>, status: 'online' | 'offline'): void {
    const work = (async () => {
      const changed = await change();
      if (changed) await options.onPresence?.(userId, status, changed instanceof Date ? changed : new Date());
    })().catch((error: unknown) => log.error({ err: error, userId }, 'presence update failed'));
    pending.add(work);
    void work.finally(() => pending.delete(work));
  }

  return {
    io,
    toUsers(userIds, event, payload) {
      if (!serverEventNames.has(event)) throw new Error(`"${event}" is not a server event of the contracts`);
      if (userIds.length > 0) io.to(userIds.map(userRoom)).emit(event, payload);
    },
    toRoom(room, event, payload, exceptUserIds = []) {
      if (!serverEventNames.has(event)) throw new Error(`"${event}" is not a server event of the contracts`);
      io.to(room).except(exceptUserIds.map(userRoom)).emit(event, payload);
    },
    removeFromRoom(userIds, room) {
      if (userIds.length > 0) io.in(userIds.map(userRoom)).socketsLeave(room);
    },
    disconnectSession(sessionId) {
      io.in(sessionRoom(sessionId)).disconnectSockets(true);
    },
    async liveCounts() {
      const sockets = await io.fetchSockets();
      return { sockets: sockets.length, users: new Set(sockets.map((s) => (s.data.user as AuthUser).id)).size };
    },
    async close() {
      clearInterval(keepAlive);
      clearInterval(presenceRetry);
      // Closing the transports (not disconnecting the sockets, which tells clients to stay away)
      // lets clients reconnect to another instance or to this one once it is back. Not io.close():
      // that would also close the HTTP server, which its owner drains itself.
      io.engine.close();
      // Disconnects are handled on the next tick; then their presence work, then the adapter.
      await new Promise((resolve) => setImmediate(resolve));
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await io.of('/').adapter.close();
    },
  };
}

const EXPIRED_MESSAGE = 'The access token expired; refresh it and connect again';

function handshakeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { data: { code, message } });
}

/** When the token expires (ms since epoch): its JWT `exp`, which the verifier has already checked. */
function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `fn` at `time` (ms since epoch) however far off it is (a bare setTimeout overflows past 24.8 days); returns a cancel. */
/**
 * Sockets by the instant their token expires (whole seconds, as `exp` is), with one timer armed for
 * the earliest: a timer, its closures and a `once` listener per socket were half a KiB of each idle
 * socket's memory.
 */
export function expiryQueue(onExpired: (socket: Socket) => void) {
  const due = new Map<number, Set<Socket>>();
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;
  const arm = () => {
    let next = Number.POSITIVE_INFINITY;
    for (const time of due.keys()) if (time < next) next = time;
    if (next === armedFor) return;
    clearTimeout(timer);
    armedFor = next;
    if (next === Number.POSITIVE_INFINITY) return;
    // Capped: a timer fires at once past 2^31 - 1 ms; firing early just re-arms.
    timer = setTimeout(fire, Math.min(Math.max(next - Date.now(), 0), 2 ** 31 - 1));
    timer.unref();
  };
  const fire = () => {
    armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const [time, sockets] of due) {
      if (time > now) continue;
      due.delete(time);
      for (const socket of sockets) onExpired(socket);
    }
    arm();
  };
  return {
    add(socket: Socket, time: number): void {
      const sockets = due.get(time) ?? new Set<Socket>();
      due.set(time, sockets);
      sockets.add(socket);
      if (time < armedFor) arm();
    },
    remove(socket: Socket, time: number): void {
      const sockets = due.get(time);
      if (sockets?.delete(socket) && sockets.size === 0) due.delete(time);
    },
  };
}
