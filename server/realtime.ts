import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import proxyaddr from 'proxy-addr';
import type { Logger } from 'pino';
import { api } from '../contracts';
import { clientEvents, serverEvents, type RealtimeHandlers } from '../generated/server/realtime';
import {
  ApiError,
  type AuthUser,
  type LimiterFactory,
  type Metrics,
  type TokenVerifier,
  type UnexpectedErrorHook,
} from '../runtime/server';
import { attachRealtime, memoryPresence, redisPresence, type Realtime } from '../runtime/realtime';
import type { Config } from './config';
import type { RedisConnections } from './redis';
import type { Services } from './services';
import { noRealtime, type RealtimePort } from './services/realtime-port';
import { databaseUnavailable } from './db/outage';

/**
 * Mundo Tango's real time: message sending and receipts over the socket, room rules, presence (who
 * sees it is the presence service's rule: friends, and people who have both written in a
 * conversation that is not a group's; never across a block, nobody while `showPresence` is off),
 * and revoked sessions disconnected at once.
 */
function realtimeHandlers(services: Services): RealtimeHandlers {
  const { messaging, presence } = services;
  return {
    async 'message:send'(payload, { user }) {
      return (await messaging.send({ ...payload, senderId: user.id })).message;
    },
    async 'message:received'({ messageId }, { user }) {
      await messaging.markDelivered({ messageId, userId: user.id });
      return { messageId };
    },
    async 'presence:query'({ userIds }, { user }) {
      return { users: await presence.query(user.id, userIds) };
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who may join which room, and see who else is in it. */
async function mayEnter(services: Services, user: AuthUser, room: string, action: 'join' | 'members'): Promise<boolean> {
  const [kind, id] = room.split(':') as [string, string];
  if (!UUID.test(id)) return false;
  switch (kind) {
    case 'conversation':
      return services.messaging.isMember(id, user.id);
    case 'event':
      // Anyone signed in may follow an event; who else does is their presence, not the event's.
      if (action === 'members')
        throw new ApiError(
          'FORBIDDEN',
          'Event rooms do not list their members: who is online is shared only with friends and conversation members',
        );
      // An event of a private group is absent to anyone but its members.
      return (await services.eventStore.find(id, user.id)) !== undefined;
    case 'group':
      // Members only, whatever the group's visibility: the room carries what members say and do.
      return services.groups.isMember(id, user.id);
    case 'post':
      // Whoever may see the post follows its comments and reactions; who else does is not listed.
      if (action === 'members') throw new ApiError('FORBIDDEN', 'Post rooms do not list who is reading');
      return services.posts.isVisible(id, user.id);
    default:
      return false;
  }
}

/** How real time is tuned; the defaults suit production. */
export interface RealtimeTuning {
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Sockets per user on one instance (all sessions and devices); the runtime's default is 20. */
  maxSocketsPerUser?: number;
  /** Sockets per client address on one instance; the runtime's default is 100. */
  maxSocketsPerAddress?: number;
}

/** A RealtimePort whose target is set once the socket server is attached to the HTTP server. */
export function lateRealtimePort(initial: RealtimePort = noRealtime): RealtimePort & { target: RealtimePort } {
  return {
    target: initial,
    toUsers(userIds, event, payload) {
      this.target.toUsers(userIds, event, payload);
    },
    toRoom(room, event, payload, exceptUserIds) {
      this.target.toRoom(room, event, payload, exceptUserIds);
    },
    removeFromRoom(userIds, room) {
      this.target.removeFromRoom(userIds, room);
    },
    liveCounts() {
      return this.target.liveCounts();
    },
  };
}

export function startRealtime(
  httpServer: HttpServer,
  options: {
    services: Services;
    port: RealtimePort & { target: RealtimePort };
    verifier: TokenVerifier;
    limiters: LimiterFactory;
    config: Config;
    log: Logger;
    metrics?: Metrics;
    onUnexpectedError?: UnexpectedErrorHook;
    redis?: RedisConnections;
    /** Which proxies' X-Forwarded-For to believe, as the HTTP app does (Express's `trust proxy fn`). */
    trustProxy?: (address: string, hop: number) => boolean;
    /** The HTTP app's key of users' hashes on spans. */
    traceUserKey?: Uint8Array;
  } & RealtimeTuning,
): Realtime {
  const { services, redis, log } = options;
  const presence = redis ? redisPresence(redis.client, redis.keyPrefix) : memoryPresence();
  const realtime = attachRealtime(httpServer, {
    path: api.realtime.path,
    verifier: options.verifier,
    limiters: options.limiters,
    errors: api.errors,
    clientEvents,
    serverEvents,
    handlers: realtimeHandlers(services),
    authorizeRoom: (user, room, action) => mayEnter(services, user, room, action),
    visibleUsers: (viewer, userIds) => services.presence.visibleTo(viewer.id, userIds),
    presence,
    // Told through the port, which is this server once attached: the same audience a query would allow.
    onPresence: (userId, status, at) => services.presence.changed(userId, status, at),
    log,
    metrics: options.metrics,
    onUnexpectedError: options.onUnexpectedError,
    // As over HTTP, an event being a write: a database connection lost mid-way stays INTERNAL (it may have committed).
    unavailable: (error) => databaseUnavailable(error, 'POST') ?? redis?.unavailable(error),
    corsOrigins: options.config.CORS_ORIGINS,
    pingIntervalMs: options.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs,
    clientAddress: options.trustProxy ? (request) => proxyaddr(request, options.trustProxy!) : undefined,
    maxSocketsPerUser: options.maxSocketsPerUser,
    maxSocketsPerAddress: options.maxSocketsPerAddress,
    traceUserKey: options.traceUserKey,
    adapter: redis ? createAdapter(redis.adapter.pub, redis.adapter.sub, { key: `${redis.keyPrefix}socket.io` }) : undefined,
  });
  options.port.target = realtime;
  services.presence.attach(presence);
  services.revocations.onRevoke((sessionId) => realtime.disconnectSession(sessionId));
  return realtime;
}
