import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import proxyaddr from 'proxy-addr';
import type { Logger } from 'pino';
import { api } from '../contracts';
import { clientEvents, serverEvents, type RealtimeHandlers } from '../generated/server/realtime';
import { ApiError, type AuthUser, type LimiterFactory, type TokenVerifier } from '../runtime/server';
import { attachRealtime, memoryPresence, redisPresence, type PresenceStore, type Realtime } from '../runtime/realtime';
import type { Config } from './config';
import type { RedisConnections } from './redis';
import type { Services } from './services';
import { noRealtime, type RealtimePort } from './services/realtime-port';

/**
 * Mundo Tango's real time: message sending and receipts over the socket, room rules, presence
 * shared only between contacts (people who have both written in one conversation), and revoked
 * sessions disconnected at once.
 */
function realtimeHandlers(services: Services, presence: PresenceStore): RealtimeHandlers {
  const { messaging } = services;
  return {
    async 'message:send'(payload, { user }) {
      return (await messaging.send({ ...payload, senderId: user.id })).message;
    },
    async 'message:received'({ messageId }, { user }) {
      await messaging.markDelivered({ messageId, userId: user.id });
      return { messageId };
    },
    async 'presence:query'({ userIds }, { user }) {
      const visible = new Set([user.id, ...(await messaging.contactsOf(user.id))]);
      const known = await presence.status([...new Set(userIds)].filter((id) => visible.has(id)));
      return {
        users: userIds.map((userId) => {
          const p = known.get(userId);
          return {
            userId,
            status: p?.online ? ('online' as const) : ('offline' as const),
            lastSeenAt: p?.online ? null : (p?.lastSeenAt?.toISOString() ?? null),
          };
        }),
      };
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
        throw new ApiError('FORBIDDEN', 'Event rooms do not list their members: who is online is shared only between contacts');
      return (await services.eventStore.get(id)) !== undefined;
    default:
      // group:{id} waits for groups to exist; anything else is no room of ours.
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
    redis?: RedisConnections;
    /** Which proxies' X-Forwarded-For to believe, as the HTTP app does (Express's `trust proxy fn`). */
    trustProxy?: (address: string, hop: number) => boolean;
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
    handlers: realtimeHandlers(services, presence),
    authorizeRoom: (user, room, action) => mayEnter(services, user, room, action),
    visibleUsers: async (viewer, userIds) => {
      const contacts = new Set(await services.messaging.contactsOf(viewer.id));
      return userIds.filter((id) => contacts.has(id));
    },
    presence,
    // Contacts are mutual, so the people told are exactly those who may ask.
    onPresence: async (userId, status, at) => {
      const contacts = await services.messaging.contactsOf(userId);
      realtime.toUsers(contacts, 'presence:update', { userId, status, lastSeenAt: status === 'offline' ? at.toISOString() : null });
    },
    log,
    corsOrigins: options.config.CORS_ORIGINS,
    pingIntervalMs: options.pingIntervalMs,
    pingTimeoutMs: options.pingTimeoutMs,
    clientAddress: options.trustProxy ? (request) => proxyaddr(request, options.trustProxy!) : undefined,
    maxSocketsPerUser: options.maxSocketsPerUser,
    maxSocketsPerAddress: options.maxSocketsPerAddress,
    adapter: redis ? createAdapter(redis.adapter.pub, redis.adapter.sub, { key: `${redis.keyPrefix}socket.io` }) : undefined,
  });
  options.port.target = realtime;
  services.revocations.onRevoke((sessionId) => realtime.disconnectSession(sessionId));
  return realtime;
}
