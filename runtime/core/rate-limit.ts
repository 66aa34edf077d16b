import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { limitName, rateLimitPolicy, type LimitKey, type RateLimit } from '../contract';
import { ApiError } from './api-error';

/**
 * The limits an operation declares in its contract. The store is memory by default; a factory
 * that builds Redis limiters shares the counts between instances. Headers follow
 * draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy`, `RateLimit`, and `Retry-After` on 429.
 */
export type LimiterFactory = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (options) => new RateLimiterMemory(options);

/**
 * One limiter per policy name: operations (or an endpoint and a socket event) that name the same
 * policy count against one budget. Memory limiters need this; Redis ones share by key anyway.
 */
export function sharedLimiters(factory: LimiterFactory = memoryLimiters): LimiterFactory {
  const byPrefix = new Map<string, RateLimiterAbstract>();
  return (options) => {
    let limiter = byPrefix.get(options.keyPrefix);
    if (!limiter) {
      limiter = factory(options);
      byPrefix.set(options.keyPrefix, limiter);
    }
    return limiter;
  };
}

/** What keys are made of for one request. */
export interface LimitSubject {
  ip: string;
  userId: string | undefined;
  body: unknown;
}

export interface OperationLimits {
  /** Counts (or, for failure-only limits, checks) the request; throws RATE_LIMITED when over. */
  check(stage: 'before-validation' | 'after-validation', subject: LimitSubject): Promise<Record<string, string> | undefined>;
  /** After the handler: failure-only limits keep the point of a client failure and give back the rest. */
  settle(subject: LimitSubject, outcome: 'success' | 'client-failure' | 'server-failure'): Promise<void>;
  readonly countsFailures: boolean;
}

interface CompiledLimit {
  name: string;
  spec: RateLimit;
  parts: LimitKey[];
  afterValidation: boolean;
  limiter: RateLimiterAbstract;
}

export function createOperationLimits(operationId: string, specs: readonly RateLimit[], factory: LimiterFactory): OperationLimits {
  const limits: CompiledLimit[] = specs.map((spec, i) => {
    const name = limitName(operationId, specs, i);
    const parts = typeof spec.key === 'string' ? [spec.key] : [...spec.key];
    return {
      name,
      spec,
      parts,
      afterValidation: parts.some((part) => part.startsWith('body.')),
      limiter: factory({ keyPrefix: `rl:${name}`, points: spec.points, duration: spec.windowSeconds }),
    };
  });
  const policy = rateLimitPolicy(operationId, specs);

  return {
    countsFailures: limits.some((l) => l.spec.failuresOnly),

    async check(stage, subject) {
      let tightest: { limit: CompiledLimit; remaining: number; resetSeconds: number } | undefined;
      for (const limit of limits) {
        if (limit.afterValidation !== (stage === 'after-validation')) continue;
        const state = await use(limit, keyOf(limit.parts, subject));
        if (!tightest || state.remaining < tightest.remaining) tightest = { limit, ...state };
      }
      if (!tightest) return undefined;
      return { 'RateLimit-Policy': policy, RateLimit: `"${tightest.limit.name}";r=${tightest.remaining};t=${tightest.resetSeconds}` };
    },

    async settle(subject, outcome) {
      for (const limit of limits) {
        if (!limit.spec.failuresOnly) continue;
        const key = keyOf(limit.parts, subject);
        if (outcome === 'client-failure') continue;
        // A success forgets the failures of what it proves (the account: a key naming a body field
        // or the user); a limit on the address alone only gives back this attempt's point, so one
        // good sign-in cannot reset a daily cap. A server failure is not the client's to pay for.
        if (outcome === 'success' && limit.parts.some((part) => part !== 'ip')) await limit.limiter.delete(key);
        else await limit.limiter.reward(key, 1);
      }
    },
  };

  async function use(limit: CompiledLimit, key: string): Promise<{ remaining: number; resetSeconds: number }> {
    const { points } = limit.spec;
    // Every attempt takes its point up front, atomically, so a burst cannot slip past the check;
    // failure-only limits give it back in settle() unless the client failed.
    let res: RateLimiterRes;
    try {
      res = await limit.limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      if (limit.spec.failuresOnly) await limit.limiter.reward(key, 1);
      throw limited(limit, rejection);
    }
    return { remaining: Math.max(0, points - res.consumedPoints), resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
  }

  function limited(limit: CompiledLimit, res: RateLimiterRes): ApiError {
    const retryAfter = String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
    return new ApiError('RATE_LIMITED', `Too many requests; try again in ${retryAfter} s`, {
      headers: { 'RateLimit-Policy': policy, RateLimit: `"${limit.name}";r=0;t=${retryAfter}`, 'Retry-After': retryAfter },
      limit: limit.name,
    });
  }
}

function keyOf(parts: LimitKey[], subject: LimitSubject): string {
  return parts
    .map((part) => {
      if (part === 'ip') return `ip:${subject.ip}`;
      if (part === 'user') return subject.userId ? `u:${subject.userId}` : `ip:${subject.ip}`;
      return `${part}:${String(bodyField(subject.body, part.slice(5)))}`;
    })
    .join('|');
}

function bodyField(body: unknown, path: string): unknown {
  let value = body;
  for (const segment of path.split('.'))
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[segment] : undefined;
  return value;
}
