import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../runtime/server';

/**
 * Redis for running many instances as one: shared rate-limit counters and revocation fan-out.
 * Pub/sub needs a connection of its own, hence three.
 */
export interface RedisConnections {
  client: Redis;
  publisher: Redis;
  subscriber: Redis;
  /** Prefix of every key and channel, so deployments (or test runs) can share one Redis. */
  keyPrefix: string;
  limiters: LimiterFactory;
  close(): Promise<void>;
}

export async function connectRedis(url: string, keyPrefix = 'mt:'): Promise<RedisConnections> {
  const open = () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const client = open();
  const subscriber = open();
  await Promise.all([client.connect(), subscriber.connect()]);
  return {
    client,
    publisher: client,
    subscriber,
    keyPrefix,
    limiters: (options) => new RateLimiterRedis({ storeClient: client, ...options, keyPrefix: `${keyPrefix}${options.keyPrefix}` }),
    async close() {
      await Promise.all([client.quit(), subscriber.quit()]);
    },
  };
}
