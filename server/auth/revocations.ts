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

const CHANNEL = 'mundo-tango:revoked-sessions';

export async function createRevocations(options: {
  ttlMs: number;
  initial: string[];
  log: Logger;
  redis?: { publisher: Redis; subscriber: Redis };
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
  add(options.initial);

  const redis = options.redis;
  if (redis) {
    await redis.subscriber.subscribe(CHANNEL);
    redis.subscriber.on('message', (channel, message) => {
      if (channel !== CHANNEL) return;
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
      if (redis) await redis.publisher.publish(CHANNEL, JSON.stringify(ids));
    },
    onRevoke: (listener) => void listeners.push(listener),
    async close() {
      if (redis) await redis.subscriber.unsubscribe(CHANNEL);
    },
  };
}
