import type { Redis } from 'ioredis';

/**
 * Who is online, counting devices: a user is online from their first connected socket until
 * their last one leaves. In memory for one instance; in Redis when instances share users.
 */
export interface PresenceStore {
  /** Records a socket; true when it is the user's first (the user came online). */
  connect(userId: string, socketId: string): Promise<boolean>;
  /** Forgets a socket (it left `at`, now by default); when it was the user's last, the time recorded as last seen (else null). */
  disconnect(userId: string, socketId: string, at?: Date): Promise<Date | null>;
  status(userIds: readonly string[]): Promise<Map<string, { online: boolean; lastSeenAt: Date | null }>>;
  /** Says these sockets are still here; a store that expires entries keeps them alive. */
  refresh(sockets: readonly { userId: string; socketId: string }[]): Promise<void>;
  /** How often `refresh` must be called, when the store expires entries. */
  readonly refreshEveryMs?: number;
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
    async disconnect(userId, socketId, at = new Date()) {
      const set = sockets.get(userId);
      const removed = set?.delete(socketId) === true;
      if ((set?.size ?? 0) > 0) return null;
      sockets.delete(userId);
      // As in Redis: forward only, and also for a socket never recorded.
      if (!((lastSeen.get(userId) ?? at) > at)) lastSeen.set(userId, at);
      return removed ? at : null;
    },
    async status(userIds) {
      return new Map(userIds.map((id) => [id, { online: (sockets.get(id)?.size ?? 0) > 0, lastSeenAt: lastSeen.get(id) ?? null }]));
    },
    async refresh() {},
  };
}

/**
 * Sockets per user in a Redis sorted set scored by expiry: live instances refresh their sockets,
 * so the sockets of an instance that crashed expire (after `ttlMs`) instead of staying online.
 * Each change and its count is one atomic script.
 */
export function redisPresence(redis: Redis, keyPrefix: string, ttlMs = 90_000): PresenceStore {
  const socketsKey = (userId: string) => `${keyPrefix}presence:${userId}`;
  const seenKey = (userId: string) => `${keyPrefix}presence-seen:${userId}`;
  // A first device only when this socket was not there yet: connecting one again (after an outage) changes nothing.
  const CONNECT =
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2]) " +
    "local added = redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) redis.call('PEXPIRE', KEYS[1], ARGV[4]) " +
    "if added == 0 then return 0 end return redis.call('ZCARD', KEYS[1])";
  // The last time seen only moves forward (a leave recorded late, after an outage, is older than a
  // later one), and is kept also for a socket that was never recorded (it came and went in an outage).
  const DISCONNECT =
    "local removed = redis.call('ZREM', KEYS[1], ARGV[1]) " +
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3]) " +
    "local left = redis.call('ZCARD', KEYS[1]) " +
    "if left == 0 then local seen = redis.call('GET', KEYS[2]) " +
    "if not seen or seen < ARGV[2] then redis.call('SET', KEYS[2], ARGV[2]) end end " +
    'if removed == 0 then return -1 end return left';
  return {
    refreshEveryMs: Math.floor(ttlMs / 3),
    async connect(userId, socketId) {
      const now = Date.now();
      return (await redis.eval(CONNECT, 1, socketsKey(userId), socketId, now, now + ttlMs, ttlMs)) === 1;
    },
    async disconnect(userId, socketId, at = new Date()) {
      const left = await redis.eval(DISCONNECT, 2, socketsKey(userId), seenKey(userId), socketId, at.toISOString(), at.getTime());
      return left === 0 ? at : null;
    },
    async status(userIds) {
      const out = new Map<string, { online: boolean; lastSeenAt: Date | null }>();
      if (userIds.length === 0) return out;
      // One round trip for the lot: a query names up to a hundred people.
      const now = Date.now();
      const batch = redis.pipeline();
      for (const id of userIds) batch.zcount(socketsKey(id), now, '+inf').get(seenKey(id));
      const replies = (await batch.exec()) ?? [];
      userIds.forEach((id, i) => {
        const [countError, count] = replies[2 * i] ?? [];
        const [seenError, seen] = replies[2 * i + 1] ?? [];
        if (countError || seenError) throw countError ?? seenError;
        out.set(id, { online: Number(count) > 0, lastSeenAt: typeof seen === 'string' ? new Date(seen) : null });
      });
      return out;
    },
    async refresh(sockets) {
      if (sockets.length === 0) return;
      const expires = Date.now() + ttlMs;
      const batch = redis.pipeline();
      for (const { userId, socketId } of sockets) {
        batch.zadd(socketsKey(userId), 'XX', expires, socketId);
        batch.pexpire(socketsKey(userId), ttlMs);
      }
      await batch.exec();
    },
  };
}
