import type { ApiClientError } from './errors.js';
import type { HttpMethod, RetryOptions } from './types.js';

export type RetryPolicy = Required<RetryOptions>;

export function resolveRetryPolicy(options: RetryOptions | false | undefined): RetryPolicy | undefined {
  if (options === false) return undefined;
  return {
    retries: options?.retries ?? 2,
    baseDelayMs: options?.baseDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 5000,
    maxRetryAfterMs: options?.maxRetryAfterMs ?? 60_000,
  };
}

const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'PUT', 'DELETE']);
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** A repeated POST or PATCH could act twice, unless the server deduplicates it by idempotency key. */
export function isReplaySafe(method: HttpMethod, idempotencyKey: string | undefined): boolean {
  return IDEMPOTENT_METHODS.has(method) || idempotencyKey !== undefined;
}

export function isTransient(error: ApiClientError): boolean {
  return error.code === 'NETWORK_ERROR' || error.code === 'TIMEOUT' || RETRYABLE_STATUSES.has(error.status);
}

/**
 * How long to wait before retry number `attempt + 1`, or undefined to give up.
 * Full jitter spreads clients that failed together so they do not return together.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter: string | null, random: () => number): number | undefined {
  const serverDelay = parseRetryAfter(retryAfter);
  if (serverDelay !== undefined) return serverDelay > policy.maxRetryAfterMs ? undefined : serverDelay;
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

/** Retry-After is either delta-seconds or an HTTP-date; anything else is ignored. */
function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
