import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../contract';
import { ApiError } from './api-error';

/**
 * Per-operation limits declared in contracts. The store is memory by default; give a factory
 * that builds Redis limiters to share counts between instances. Headers follow
 * draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and `RateLimit`, plus `Retry-After`.
 */
export type LimiterFactory = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (options) => new RateLimiterMemory(options);

export interface OperationLimiter {
  /** Counts one request against `key`; throws RATE_LIMITED when over; returns the headers to send. */
  consume(key: string): Promise<Record<string, string>>;
}

export function createOperationLimiter(name: string, spec: RateLimit, factory: LimiterFactory): OperationLimiter {
  const limiter = factory({ keyPrefix: `rl:${name}`, points: spec.points, duration: spec.windowSeconds });
  const policy = `"${name}";q=${spec.points};w=${spec.windowSeconds}`;
  const headers = (res: RateLimiterRes) => ({
    'RateLimit-Policy': policy,
    RateLimit: `"${name}";r=${Math.max(0, res.remainingPoints)};t=${Math.ceil(res.msBeforeNext / 1000)}`,
  });
  return {
    async consume(key) {
      try {
        return headers(await limiter.consume(key));
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
        throw new ApiError('RATE_LIMITED', `Too many requests; try again in ${retryAfter} s`, {
          headers: { ...headers(rejection), 'Retry-After': retryAfter },
        });
      }
    },
  };
}
