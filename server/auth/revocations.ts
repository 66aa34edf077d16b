import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Revoked sessions, checked on every authenticated request so that an access token of a revoked
 * session is refused on its next request rather than when it expires. The set lives in memory;
 * with Redis, each revocation is published and every instance adds it to its own set. Entries are
 * kept for one access-token lifetime: after that every token of the session has expired anyway.
 *
 * A revocation is never forgotten, Redis or not; the database (`recent`) is the record:
 * - `revoke` succeeds once the revocation is stored, as it is before it is called: this instance
 *   refuses the session at once, and a publish that fails (Redis out of reach) is logged and made
 *   again when the connection is ready again.
 * - While the subscription is down, the sessions revoked within one token lifetime are read from
 *   the database every `resyncEveryMs` (so another instance's revocation is refused within about
 *   that long, outage or not). Once reconnected it subscribes again, waits for Redis to confirm,
 *   and only then reads them once more: whatever was published while it did not listen is in that
 *   read, and what comes after is in a message. Until that read has succeeded it keeps polling.
 * - It fails closed: the set only grows (a read adds, never removes), and an entry counts a whole
 *   token lifetime from when this instance learnt it.
 */
export interface Revocations {
  isRevoked(sessionId: string | undefined): boolean;
  /** Records revocations here and, with Redis, on every instance. */
  revoke(sessionIds: string[]): Promise<void>;
  /** Called with each session revoked, here or elsewhere (e.g. to close its live sockets). */
  onRevoke(listener: (sessionId: string) => void): void;
  close(): Promise<void>;
}

/** How often revoked sessions are read from the database while the subscription is down, unless the connections say otherwise. */
const RESYNC_EVERY_MS = 5000;

export async function createRevocations(options: {
  ttlMs: number;
  /** Sessions revoked within the last `ms`: read at start, while the Redis subscription is down, and once it is back. */
  recent: (ms: number) => Promise<string[]>;
  log: Logger;
  redis?: { publisher: Redis; subscriber: Redis; keyPrefix: string; resyncEveryMs?: number };
}): Promise<Revocations> {
  const { log, ttlMs } = options;
  const revokedAt = new Map<string, number>();
  const listeners: ((sessionId: string) => void)[] = [];

  const add = (ids: string[]) => {
    const now = Date.now();
    for (const id of ids) {
      const known = revokedAt.has(id);
      // Delete first, so the Map's insertion order stays the order of the times.
      revokedAt.delete(id);
      revokedAt.set(id, now);
      if (!known) for (const listener of listeners) listener(id);
    }
    // Map keeps insertion order, so the oldest entries are at the front.
    for (const [id, at] of revokedAt) {
      if (now - at < ttlMs) break;
      revokedAt.delete(id);
    }
  };
  add(await options.recent(ttlMs));

  const redis = options.redis;
  const channel = `${redis?.keyPrefix ?? ''}revoked-sessions`;
  const fanOut = redis ? await subscribe(redis) : undefined;

  return {
    isRevoked: (sessionId) => sessionId !== undefined && revokedAt.has(sessionId),
    async revoke(ids) {
      if (ids.length === 0) return;
      add(ids);
      await fanOut?.publish(ids);
    },
    onRevoke: (listener) => void listeners.push(listener),
    async close() {
      await fanOut?.close();
    },
  };

  async function subscribe(redis: NonNullable<typeof options.redis>) {
    const { publisher, subscriber } = redis;
    const everyMs = redis.resyncEveryMs ?? RESYNC_EVERY_MS;
    /** Subscribed, and the database read since: every revocation is known. */
    let inSync = true;
    /** Bumped at every disconnection: a resync that saw one meanwhile proves nothing. */
    let connection = 0;
    let resyncing = false;
    let readFailing = false;
    /** Revoked here while the publish failed: published again once Redis answers. */
    const unpublished = new Set<string>();

    const onMessage = (ch: string, message: string) => {
      if (ch !== channel) return;
      try {
        add(JSON.parse(message) as string[]);
      } catch (error) {
        log.error({ err: error }, 'unreadable revocation message');
      }
    };
    const onClose = () => {
      connection++;
      if (!inSync) return;
      inSync = false;
      log.warn({ everyMs }, 'revocation fan-out interrupted: revoked sessions are read from the database until Redis is back');
    };
    const read = async (): Promise<boolean> => {
      try {
        add(await options.recent(ttlMs));
        readFailing = false;
        return true;
      } catch (error) {
        // Said once per run of failures, not at every attempt; tried again at the next tick.
        if (!readFailing) log.error({ err: error }, 'reading revoked sessions failed; trying again');
        readFailing = true;
        return false;
      }
    };
    const resync = async () => {
      if (inSync || resyncing) return;
      resyncing = true;
      const at = connection;
      try {
        // Listening (confirmed by Redis) before reading: nothing published in between is missed.
        await subscriber.subscribe(channel);
        if ((await read()) && at === connection && subscriber.status === 'ready') {
          inSync = true;
          log.info('revocation fan-out restored');
        }
      } catch {
        // Disconnected again: the next 'ready' or tick tries again.
      } finally {
        resyncing = false;
      }
    };
    const republish = async () => {
      if (unpublished.size === 0) return;
      const ids = [...unpublished];
      try {
        await publisher.publish(channel, JSON.stringify(ids));
        for (const id of ids) unpublished.delete(id);
      } catch {
        // Still out of reach: the next 'ready' tries again.
      }
    };
    const onReady = () => void resync();
    const onPublisherReady = () => void republish();

    await subscriber.subscribe(channel);
    subscriber.on('message', onMessage);
    subscriber.on('close', onClose);
    subscriber.on('ready', onReady);
    publisher.on('ready', onPublisherReady);
    // Pub/sub delivers at most once: while not listening, the database is read instead.
    const tick = setInterval(() => {
      if (inSync) return;
      if (subscriber.status === 'ready') void resync();
      else void read();
    }, everyMs);
    tick.unref();

    return {
      async publish(ids: string[]) {
        try {
          await publisher.publish(channel, JSON.stringify(ids));
        } catch (error) {
          // Stored and refused here already: the other instances read it from the database meanwhile.
          for (const id of ids) unpublished.add(id);
          log.warn(
            { err: { message: (error as Error).message }, sessions: ids.length },
            'publishing a revocation failed: other instances read it from the database until Redis is back',
          );
        }
      },
      async close() {
        clearInterval(tick);
        subscriber.off('message', onMessage);
        subscriber.off('close', onClose);
        subscriber.off('ready', onReady);
        publisher.off('ready', onPublisherReady);
        if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => {});
      },
    };
  }
}
