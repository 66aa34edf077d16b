import { ApiError } from '../runtime/core/api-error';

/** How long a client is asked to wait before trying again while Redis is out of reach. */
const REDIS_RETRY_AFTER_SECONDS = 5;

/**
 * What ioredis rejects a command with when the server cannot answer it: no connection (and no
 * offline queue to wait in), a connection that stopped answering (`commandTimeout`), one closed
 * for good, and rate-limiter-flexible's refusal to try a connection that is not ready.
 */
const CONNECTION_MESSAGES = new Set([
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'Connection is closed.',
  'Redis connection is not ready',
  // In flight when the connection dropped, as part of a pipeline or transaction that cannot be resent.
  'Command aborted due to connection close',
]);
/** Redis's own answers of a server that cannot serve yet: loading its data, busy with a script, or a replica mid-failover. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY) /;

/**
 * A Redis outage, told apart from a bug: a request that needs Redis and cannot do without it (an
 * `Idempotency-Key`, whose claim must be shared by every instance, or anything reading presence)
 * gets 503 `SERVICE_UNAVAILABLE` with `Retry-After` instead of a 500 (createApp's `unavailable`
 * option, composed with the database's in server/app.ts). What can do without Redis does (see
 * connectRedis): rate limits count in memory, revocations are read from the database.
 */
export function redisUnavailable(error: unknown): ApiError | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const known =
      CONNECTION_MESSAGES.has(cause.message) ||
      // Queued through more reconnections than `maxRetriesPerRequest` allows.
      cause.name === 'MaxRetriesPerRequestError' ||
      (cause.name === 'ReplyError' && UNAVAILABLE_REPLY.test(cause.message));
    if (known) {
      return new ApiError('SERVICE_UNAVAILABLE', 'A service this request needs cannot be reached just now; try again shortly', {
        headers: { 'Retry-After': String(REDIS_RETRY_AFTER_SECONDS) },
      });
    }
  }
  return undefined;
}
