import { ApiError } from '../../runtime/server';

/** How long a client is asked to wait before trying again while the database is out of reach. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * PostgreSQL's refusals before it runs anything (SQLSTATE): starting up (57P03), no connection
 * slot (53300), a connection it could not or would not make (08001, 08004).
 */
const REFUSED_STATES = new Set(['57P03', '53300', '08001', '08004']);
/**
 * A connection lost while a statement may have run: shut down or crashed (57P01, 57P02), the
 * connection failed or is gone (08006, 08003, 08000), a commit whose fate is unknown (08007).
 */
const LOST_STATES = new Set(['57P01', '57P02', '08006', '08003', '08000', '08007']);
/** Socket errors of a connection that was never made. */
const UNREACHED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Socket errors of a connection lost on the way. */
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
/** node-postgres says these in words only (errors without a code): no free connection in time, a connection that could not be made. */
const UNREACHED_MESSAGES = /^(timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/;
/** …and a connection lost mid-query, or a query whose answer never came. */
const LOST_MESSAGES =
  /^(Connection terminated unexpectedly|Query read timeout|Client has encountered a connection error and is not queryable)$/;

type Outage = 'unreached' | 'lost';

/** What kind of outage the error is, judged by the driver's own errors only (never text a query carried). */
function outageOf(error: unknown): Outage | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const { code } = cause as { code?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      // PostgreSQL answered: its code alone decides (its message may quote the input).
      if (REFUSED_STATES.has(code)) return 'unreached';
      if (LOST_STATES.has(code)) return 'lost';
      return undefined;
    }
    if (typeof code === 'string') {
      if (UNREACHED_CODES.has(code)) return 'unreached';
      if (LOST_CODES.has(code)) return 'lost';
    }
    // Drizzle's wrapper ("Failed query: … params: …") is skipped for its cause.
    if (code === undefined && !cause.message.startsWith('Failed query')) {
      if (UNREACHED_MESSAGES.test(cause.message)) return 'unreached';
      if (LOST_MESSAGES.test(cause.message)) return 'lost';
    }
  }
  return undefined;
}

/**
 * A database outage or saturation, told apart from a bug (createApp's `unavailable` option): 503
 * `SERVICE_UNAVAILABLE` with `Retry-After` when trying again is safe — nothing reached the database
 * (no connection, or none free in time), or the request only reads — and otherwise undefined, so the
 * request stays a 500: a write whose connection was lost mid-way may have been committed, and a
 * client must not be told to send it again (its Idempotency-Key is freed with the failure). The next
 * request after the database is back is served as usual (the pool connects again on demand).
 */
export function databaseUnavailable(error: unknown, method = 'GET'): ApiError | undefined {
  const outage = outageOf(error);
  if (!outage || (outage === 'lost' && method !== 'GET' && method !== 'HEAD')) return undefined;
  return new ApiError('SERVICE_UNAVAILABLE', 'The database cannot be reached just now; try again shortly', {
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}
