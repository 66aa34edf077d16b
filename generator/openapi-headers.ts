import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import {
  cacheHeaders,
  limitName,
  rateLimitPolicy,
  rateLimitsOf,
  type LimitKey,
  type RateLimit,
  type RuntimeHeader,
} from '@contract-kit/runtime/contract';
import type { OperationModel } from './model';

/**
 * The headers, conditional parameters and limits of operations as the spec states them: shared
 * header components, each operation's own RateLimit, Cache-Control and Vary, If-None-Match with
 * its 304, If-Match, and the rate-limit sentences of descriptions.
 */

export function limitSentences(limits: readonly RateLimit[]): string[] {
  return limits.map((limit) => {
    const what = limit.failuresOnly ? 'failed requests' : 'requests';
    const reset = limit.failuresOnly ? '; a success resets the count' : '';
    return `Rate limit: ${limit.points} ${what} per ${limit.windowSeconds} s per ${describeKey(limit.key)}${reset}.`;
  });
}

function describeKey(key: LimitKey | readonly LimitKey[]): string {
  const names: Record<string, string> = { ip: 'client address', user: 'user' };
  return (typeof key === 'string' ? [key] : key).map((part) => names[part] ?? `\`${part.slice(5)}\``).join(' and ');
}

export const sharedHeaders = {
  'X-Request-Id': {
    description: 'Identifies the request in logs; sent back as given when well-formed, else generated',
    schema: { type: 'string', maxLength: 128 },
  },
  'RateLimit-Policy': {
    description:
      'The limit of this operation, e.g. `"createEvent";q=60;w=3600`: q requests per w seconds (draft-ietf-httpapi-ratelimit-headers)',
    schema: { type: 'string', maxLength: 200 },
  },
  RateLimit: {
    description: 'What is left, e.g. `"createEvent";r=59;t=3600`: r requests remaining, t seconds until the window resets',
    schema: { type: 'string', maxLength: 200 },
  },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
  Deprecation: {
    description: 'When this operation was deprecated (RFC 9745), e.g. `@1767225600`',
    schema: { type: 'string', maxLength: 30 },
  },
  Sunset: { description: 'When this operation stops working (RFC 8594), an HTTP date', schema: { type: 'string', maxLength: 40 } },
  Link: { description: 'Link to the next page, `rel="next"`, when there is one', schema: { type: 'string', maxLength: 2048 } },
  'Idempotent-Replayed': {
    description: '`true` when this answer is the stored first answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string', const: 'true' },
  },
  ETag: {
    description: 'Strong validator of this representation: send it back in `If-None-Match` to get 304 while it is current',
    schema: { type: 'string', maxLength: 100 },
  },
} as const satisfies Record<RuntimeHeader, unknown>;

const CACHE_HEADER_DESCRIPTIONS: Record<string, string> = {
  'Cache-Control': 'How long and by whom this answer may be kept (RFC 9111)',
  Vary: 'The request headers this answer depends on',
};

/** A cacheable GET's Cache-Control and Vary, as its contract sets them. */
export function ownCacheHeaders(e: OperationModel['endpoint']): Record<string, unknown> {
  const policy = cacheHeaders(e);
  if (!policy) return {};
  return Object.fromEntries(
    Object.entries(policy).map(([name, value]) => [
      name,
      name === 'Vary'
        ? // Every answer also varies on Origin (CORS), sent as a header of its own: the two may arrive joined.
          {
            description: `${CACHE_HEADER_DESCRIPTIONS.Vary}: \`${value}\`, with \`Origin\` (CORS)`,
            schema: { type: 'string', maxLength: 200 },
          }
        : { description: CACHE_HEADER_DESCRIPTIONS[name], schema: { type: 'string', const: value } },
    ]),
  );
}

/** The RateLimit headers of an operation with limits, described with its own policies rather than an example's. */
export function ownRateLimitHeaders(e: OperationModel['endpoint']): Record<string, unknown> {
  const limits = rateLimitsOf(e);
  if (limits.length === 0) return {};
  const policy = rateLimitPolicy(e.operationId, limits);
  const first = limits[0]!;
  return {
    'RateLimit-Policy': {
      description: `This operation's limits: \`${policy}\` (q requests per w seconds)`,
      schema: sharedHeaders['RateLimit-Policy'].schema,
    },
    RateLimit: {
      description: `What is left of the tightest of them, e.g. \`"${limitName(e.operationId, limits, 0)}";r=${first.points - 1};t=${first.windowSeconds}\`: r requests remaining, t seconds until it resets`,
      schema: sharedHeaders.RateLimit.schema,
    },
  };
}

export function headerRefs(...names: RuntimeHeader[]): Record<string, { $ref: string }> {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

export const IF_NONE_MATCH = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'The ETag of the representation held: 304 without a body while it is still the current one',
  // Unbounded here as every header: the server's header limit bounds it, and an unknown tag is no error.
  schema: { type: 'string' },
} as const;

export const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description:
    'The ETag of the resource as last read (its GET sends it): the change is made only if the resource is still that ' +
    'one, else 412 `PRECONDITION_FAILED` and nothing changes. Without it the change is made whatever happened since.',
  schema: { type: 'string' },
} as const;

/** 304 of a cacheable GET: what the 200 says of caching, no body. */
export function notModified(e: OperationModel['endpoint']): RouteConfig['responses'] {
  if (!e.cache) return {};
  const headers = { ...headerRefs('X-Request-Id', 'ETag'), ...ownCacheHeaders(e) };
  return {
    304: { description: 'Not modified: the representation `If-None-Match` names is still current', headers },
  } as RouteConfig['responses'];
}
