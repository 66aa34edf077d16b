import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Revoked sessions, checked on every authenticated request so that an access token of a revoked
 * session is refused on its next request rather than when it expires. The set lives in memory;
 * with Redis, each revocation is published and every instance adds it to its own set. Entries are
 * kept for one access-token lifetime: after that every token of the session has expired anyway.
 */
export interface Revocations {
  isRevoked(sessionId: string | undefined): boolean;
  /** Records revocations here and, with Redis, on every instance. */
  revoke(sessionIds: string[]): Promise<void>;
  /** Called with each session revoked, here or elsewhere (e.g. to close its live sockets). */
  onRevoke(listener: (sessionId: string) => void): void;
  close(): Promise<void>;
}

export async function createRevocations(options: {
  ttlMs: number;
  /** Sessions revoked within the last `ms`: read at start and whenever the Redis subscription reconnects. */
  recent: (ms: number) => Promise<string[]>;
  log: Logger;
  redis?: { publisher: Redis; subscriber: Redis; keyPrefix: string };
}): Promise<Revocations> {
  const revokedAt = new Map<string, number>();
  const listeners: ((sessionId: string) => void)[] = [];

  const add = (ids: string[]) => {
    const now = Date.now();
    for (const id of ids) {
      revokedAt.set(id, now);
      for (const listener of listeners) listener(id);
    }
    // Map keeps insertion order, so the oldest entries are at the front.
    for (const [id, at] of revokedAt) {
      if (now - at < options.ttlMs) break;
      revokedAt.delete(id);
    }
  };
  add(await options.recent(options.ttlMs));

  const redis = options.redis;
  const channel = `${redis?.keyPrefix ?? ''}revoked-sessions`;
  if (redis) {
    await redis.subscriber.subscribe(channel);
    // Pub/sub delivers at most once: whatever was published while the connection was down is read back.
    redis.subscriber.on('ready', () => {
      options.recent(options.ttlMs).then(add, (error: unknown) => options.log.error({ err: error }, 'reloading revocations failed'));
    });
    redis.subscriber.on('message', (ch, message) => {
      if (ch !== channel) return;
      try {
        add(JSON.parse(message) as string[]);
      } catch (error) {
        options.log.error({ err: error }, 'unreadable revocation message');
      }
    });
  }

  return {
    isRevoked: (sessionId) => sessionId !== undefined && revokedAt.has(sessionId),
    async revoke(ids) {
      if (ids.length === 0) return;
      add(ids);
      if (redis) await redis.publisher.publish(channel, JSON.stringify(ids));
    },
    onRevoke: (listener) => void listeners.push(listener),
    async close() {
      if (redis) await redis.subscriber.unsubscribe(channel);
    },
  };
}
