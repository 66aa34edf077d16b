import { ApiError } from '../../runtime/server';

/** How long a client is asked to wait before trying again while the database is out of reach. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Socket errors of a database that is down, restarting or out of reach. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * PostgreSQL's own (SQLSTATE): class 08 is a connection exception; 57P01–57P03 a server shutting
 * down, crashed or starting; 53300 no connection slot left.
 */
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
/** node-postgres says these in words only: no free connection in time, a connection gone mid-query, a query past its timeout. */
const DRIVER_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|not queryable|Client was closed|connection error/i;

/**
 * A database outage or saturation, told apart from a bug: the request gets 503
 * `SERVICE_UNAVAILABLE` with `Retry-After` instead of a 500 (createApp's `unavailable` option), and
 * the next request after the database is back is served as usual (the pool connects again on
 * demand). Drizzle wraps the driver's error: the chain of causes is searched.
 */
export function databaseUnavailable(error: unknown): ApiError | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const { code } = cause as { code?: unknown };
    const known =
      (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code))) || DRIVER_MESSAGES.test(cause.message);
    if (known) {
      return new ApiError('SERVICE_UNAVAILABLE', 'The database cannot be reached just now; try again shortly', {
        headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
      });
    }
  }
  return undefined;
}
