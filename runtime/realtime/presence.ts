import type { Redis } from 'ioredis';

/**
 * Who is online, counting devices: a user is online from their first connected socket until
 * their last one leaves. In memory for one instance; in Redis when instances share users.
 */
export interface PresenceStore {
  /** Records a socket; true when it is the user's first (the user came online). */
  connect(userId: string, socketId: string): Promise<boolean>;
  /** Forgets a socket; when it was the user's last, the time recorded as last seen (else null). */
  disconnect(userId: string, socketId: string): Promise<Date | null>;
  status(userIds: readonly string[]): Promise<Map<string, { online: boolean; lastSeenAt: Date | null }>>;
}

export function memoryPresence(): PresenceStore {
  const sockets = new Map<string, Set<string>>();
  const lastSeen = new Map<string, Date>();
  return {
    async connect(userId, socketId) {
      const set = sockets.get(userId) ?? new Set<string>();
      sockets.set(userId, set);
      set.add(socketId);
      return set.size === 1;
    },
    async disconnect(userId, socketId) {
      const set = sockets.get(userId);
      if (!set?.delete(socketId) || set.size > 0) return null;
      sockets.delete(userId);
      const at = new Date();
      lastSeen.set(userId, at);
      return at;
    },
    async status(userIds) {
      return new Map(userIds.map((id) => [id, { online: (sockets.get(id)?.size ?? 0) > 0, lastSeenAt: lastSeen.get(id) ?? null }]));
    },
  };
}

/** Sockets per user in a Redis set; the add/remove and the count are one atomic script each. */
export function redisPresence(redis: Redis, keyPrefix: string): PresenceStore {
  const socketsKey = (userId: string) => `${keyPrefix}presence:${userId}`;
  const seenKey = (userId: string) => `${keyPrefix}presence-seen:${userId}`;
  const CONNECT = "redis.call('SADD', KEYS[1], ARGV[1]); return redis.call('SCARD', KEYS[1])";
  const DISCONNECT =
    "if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return -1 end " +
    "local left = redis.call('SCARD', KEYS[1]) " +
    "if left == 0 then redis.call('SET', KEYS[2], ARGV[2]) end return left";
  return {
    async connect(userId, socketId) {
      return (await redis.eval(CONNECT, 1, socketsKey(userId), socketId)) === 1;
    },
    async disconnect(userId, socketId) {
      const at = new Date();
      const left = await redis.eval(DISCONNECT, 2, socketsKey(userId), seenKey(userId), socketId, at.toISOString());
      return left === 0 ? at : null;
    },
    async status(userIds) {
      const out = new Map<string, { online: boolean; lastSeenAt: Date | null }>();
      for (const id of userIds) {
        const [count, seen] = await Promise.all([redis.scard(socketsKey(id)), redis.get(seenKey(id))]);
        out.set(id, { online: count > 0, lastSeenAt: seen ? new Date(seen) : null });
      }
      return out;
    },
  };
}
