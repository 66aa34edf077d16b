import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../runtime/server';

/**
 * Redis for running many instances as one: shared rate-limit counters and revocation fan-out.
 * Pub/sub needs connections of their own, hence four.
 */
export interface RedisConnections {
  client: Redis;
  publisher: Redis;
  subscriber: Redis;
  /** The Socket.IO adapter's own pair (it subscribes with one and publishes with the other). */
  adapter: { pub: Redis; sub: Redis };
  /** Prefix of every key and channel, so deployments (or test runs) can share one Redis. */
  keyPrefix: string;
  limiters: LimiterFactory;
  close(): Promise<void>;
}

/** The prefix when `REDIS_PREFIX` is not set. */
const DEFAULT_REDIS_PREFIX = 'mt:';

/**
 * Connects to Redis. `keyPrefix` (`REDIS_PREFIX`) goes before every key and channel of this
 * deployment: rate limits (here), and through `keyPrefix` revocations, idempotency keys, presence
 * and the Socket.IO adapter's channels.
 */
export async function connectRedis(url: string, keyPrefix = DEFAULT_REDIS_PREFIX): Promise<RedisConnections> {
  // Loaded here, not at the top: a server without REDIS_URL starts without loading the client.
  const { Redis } = await import('ioredis');
  const open = () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const [client, subscriber, pub, sub] = [open(), open(), open(), open()];
  await Promise.all([client, subscriber, pub, sub].map((connection) => connection.connect()));
  return {
    client,
    publisher: client,
    subscriber,
    adapter: { pub, sub },
    keyPrefix,
    limiters: (options) => new RateLimiterRedis({ storeClient: client, ...options, keyPrefix: `${keyPrefix}${options.keyPrefix}` }),
    async close() {
      await Promise.all([client, subscriber, pub, sub].map((connection) => connection.quit()));
    },
  };
}
