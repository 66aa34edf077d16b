import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ApiError } from '../runtime/core/api-error';
import type { LimiterFactory } from '../runtime/server';
import { redisUnavailable } from './redis-outage';

/**
 * Redis for running many instances as one: shared rate-limit counters, idempotency keys, presence,
 * revocation fan-out and the Socket.IO adapter. Pub/sub needs connections of their own, hence four.
 *
 * **While Redis cannot be reached** (stopped, or a network that stopped answering) every instance
 * keeps serving; nothing waits for Redis longer than `commandTimeoutMs`, and nothing needs a restart:
 *
 * 1. Rate limits fall back to each instance's memory (rate-limiter-flexible's `insuranceLimiter`,
 *    the same policy and window), so they still limit, per instance: with N instances a client
 *    gets up to N times its budget. One `warn` line when the first request falls back, one `info`
 *    line when Redis answers again; then the counts are shared again (those of the outage are dropped).
 * 2. Revocations are never forgotten: a logout or revocation is in the database, so it succeeds
 *    for its caller; the instance refuses the session at once, and publishes it again once Redis
 *    is back. Every other instance, while its subscription is down, reads the sessions revoked in
 *    the last access-token lifetime from the database every `resyncEveryMs`, and once it is
 *    subscribed again reads them once more (server/auth/revocations.ts).
 * 3. What cannot do without Redis answers `503 SERVICE_UNAVAILABLE` with `Retry-After`, never a
 *    500 (`unavailable`, server/redis-outage.ts): a request with an `Idempotency-Key` (its claim
 *    must hold on every instance), and whatever else must read Redis to answer (presence).
 * 4. Real-time events reach the sockets of the instance that sends them; those for sockets on other
 *    instances are dropped until the Socket.IO adapter has reconnected and subscribed again, by itself.
 *
 * Connections retry forever, backing off to `reconnectMaxMs` between attempts.
 */
export interface RedisConnections {
  /** Commands made for a request: no offline queue, each bounded by `commandTimeoutMs`. */
  client: Redis;
  publisher: Redis;
  subscriber: Redis;
  /** The Socket.IO adapter's own pair (it subscribes with one and publishes with the other). */
  adapter: { pub: Redis; sub: Redis };
  /** Prefix of every key and channel, so deployments (or test runs) can share one Redis. */
  keyPrefix: string;
  limiters: LimiterFactory;
  /** Recognises an error of a Redis out of reach: 503 with Retry-After (createApp's `unavailable`). */
  unavailable(error: unknown): ApiError | undefined;
  /** While the revocation subscription is down, how often revoked sessions are read from the database. */
  resyncEveryMs: number;
  close(): Promise<void>;
}

/** How each instance rides out a Redis outage; the defaults suit production. */
export interface ConnectRedisOptions {
  /** Where the outage's warnings go (one line when it starts to matter, one when it ends). */
  log?: Logger;
  /**
   * The longest a command made for a request may take, and how long a connection may stay silent
   * with commands waiting before it is dropped and made again (a network that stopped answering):
   * 1000 ms. Past it a rate limit counts in memory, an idempotent request gets 503.
   */
  commandTimeoutMs?: number;
  /** The longest wait between two attempts to reconnect: 2000 ms (ioredis's own backoff, 50 ms more per attempt up to it). */
  reconnectMaxMs?: number;
  /** While Redis is out of reach, how often revoked sessions are read from the database and Redis is asked whether it is back: 5000 ms. */
  resyncEveryMs?: number;
}

/** The prefix when `REDIS_PREFIX` is not set. */
const DEFAULT_REDIS_PREFIX = 'mt:';
const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
const DEFAULT_RECONNECT_MAX_MS = 2000;
const DEFAULT_RESYNC_EVERY_MS = 5000;

/**
 * Connects to Redis. `keyPrefix` (`REDIS_PREFIX`) goes before every key and channel of this
 * deployment: rate limits (here), and through `keyPrefix` revocations, idempotency keys, presence
 * and the Socket.IO adapter's channels.
 */
export async function connectRedis(
  url: string,
  keyPrefix = DEFAULT_REDIS_PREFIX,
  options: ConnectRedisOptions = {},
): Promise<RedisConnections> {
  // Loaded here, not at the top: a server without REDIS_URL starts without loading the client.
  const { Redis } = await import('ioredis');
  const { log } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const reconnectMaxMs = options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS;
  const resyncEveryMs = options.resyncEveryMs ?? DEFAULT_RESYNC_EVERY_MS;
  const reconnecting: RedisOptions = { lazyConnect: true, retryStrategy: (attempt) => Math.min(attempt * 50, reconnectMaxMs) };
  // A request never waits for a reconnection: while the connection is down its commands fail at
  // once, and on a connection that stopped answering within commandTimeoutMs, after which the
  // silent socket is dropped (socketTimeout) so that the next ones fail at once too.
  const forRequests: RedisOptions = {
    ...reconnecting,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    socketTimeout: commandTimeoutMs,
  };
  // Subscribers keep ioredis's defaults: they subscribe again by themselves once reconnected.
  const forSubscriptions: RedisOptions = { ...reconnecting, maxRetriesPerRequest: 2 };
  const client = new Redis(url, forRequests);
  const subscriber = new Redis(url, forSubscriptions);
  const pub = new Redis(url, forRequests);
  const sub = new Redis(url, forSubscriptions);
  const all = { client, subscriber, pub, sub };
  for (const [name, connection] of Object.entries(all)) {
    // Each failed attempt to reconnect is an `error` event; without a listener ioredis prints every one.
    connection.on('error', (error: Error) => log?.debug({ err: { message: error.message }, connection: name }, 'Redis connection error'));
  }
  dropFailedPublishes(pub, log);
  try {
    await Promise.all(Object.values(all).map((connection) => connection.connect()));
  } catch (error) {
    // Not reachable at start: the start fails, and no connection is left retrying behind it.
    for (const connection of Object.values(all)) connection.disconnect();
    throw error;
  }

  const fallback = limiterFallback(client, log, resyncEveryMs);
  // One limiter per policy, as with memory limiters: operations naming one policy keep one budget in the fallback too.
  const byPolicy = new Map<string, RateLimiterAbstract>();
  const limiters: LimiterFactory = (limit) => {
    let limiter = byPolicy.get(limit.keyPrefix);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: client,
        ...limit,
        keyPrefix: `${keyPrefix}${limit.keyPrefix}`,
        // Not even tried on a connection that is not ready: straight to memory.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new FallbackLimiter(limit, fallback.used),
      });
      byPolicy.set(limit.keyPrefix, limiter);
    }
    return limiter;
  };
  return {
    client,
    publisher: client,
    subscriber,
    adapter: { pub, sub },
    keyPrefix,
    limiters,
    unavailable: redisUnavailable,
    resyncEveryMs,
    async close() {
      fallback.stop();
      await Promise.all(Object.values(all).map(closeConnection));
    },
  };
}

/** Memory counts used while Redis cannot be reached; says when it is first used. */
class FallbackLimiter extends RateLimiterMemory {
  constructor(
    options: { keyPrefix: string; points: number; duration: number },
    private readonly used: () => void,
  ) {
    super(options);
  }
  override consume(...args: Parameters<RateLimiterMemory['consume']>) {
    this.used();
    return super.consume(...args);
  }
  override reward(...args: Parameters<RateLimiterMemory['reward']>) {
    this.used();
    return super.reward(...args);
  }
  override delete(...args: Parameters<RateLimiterMemory['delete']>) {
    this.used();
    return super.delete(...args);
  }
}

/**
 * The fallback's two log lines: a warning when the first limit falls back to memory, and, once a
 * PING answers again (asked every `probeMs` meanwhile, and at once when the connection is ready
 * again), the line saying the counts are shared again.
 */
function limiterFallback(client: Redis, log: Logger | undefined, probeMs: number) {
  let since: number | undefined;
  let probe: NodeJS.Timeout | undefined;
  const back = () => {
    if (since === undefined) return;
    log?.info({ outageMs: Date.now() - since }, 'Redis answers again: rate limits are shared between instances again');
    since = undefined;
    clearInterval(probe);
  };
  const check = () => {
    if (since !== undefined && client.status === 'ready') client.ping().then(back, () => {});
  };
  client.on('ready', check);
  return {
    used() {
      if (since !== undefined) return;
      since = Date.now();
      log?.warn('Redis cannot be reached: each instance counts rate limits in its own memory until it answers again');
      probe = setInterval(check, probeMs);
      probe.unref();
    },
    stop: () => clearInterval(probe),
  };
}

/**
 * The Socket.IO adapter publishes without awaiting: while Redis is out of reach a publish fails at
 * once, and would be an unhandled rejection (which ends the process). It is dropped instead (the
 * event still reaches this instance's sockets), said once per outage.
 */
function dropFailedPublishes(pub: Redis, log: Logger | undefined) {
  let dropped = 0;
  const publish = pub.publish.bind(pub) as (...args: unknown[]) => Promise<number>;
  const guarded = (...args: unknown[]) => {
    const sent = publish(...args);
    sent.catch(() => {
      if (dropped++ === 0) log?.warn('Redis cannot be reached: real-time events reach only the sockets of the instance that sends them');
    });
    return sent;
  };
  Object.assign(pub, { publish: guarded });
  pub.on('ready', () => {
    if (dropped > 0) log?.info({ dropped }, 'Redis answers again: real-time events reach every instance again');
    dropped = 0;
  });
}

/** QUIT when connected (what was sent is answered first); otherwise just stop reconnecting. */
async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // Lost in the meantime: disconnected below.
    }
  }
  connection.disconnect();
}
