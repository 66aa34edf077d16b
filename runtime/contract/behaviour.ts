import { isFile, isPaged, type EndpointDefinition } from './endpoint';

/**
 * What the runtime does for an operation beyond what its contract states: the headers it sends,
 * the errors it adds, which operations take an Idempotency-Key, what counts as a client's failure.
 * The router enforces these rules and the generator documents them, from this one module, so the
 * spec cannot drift from what the server does.
 */

/** Headers the runtime may send, by name as they appear on the wire and in the spec. */
export type RuntimeHeader =
  | 'X-Request-Id'
  | 'RateLimit-Policy'
  | 'RateLimit'
  | 'Retry-After'
  | 'Deprecation'
  | 'Sunset'
  | 'Link'
  | 'Idempotent-Replayed'
  | 'ETag';

/** Every header a browser must be allowed to read (CORS `Access-Control-Expose-Headers`). */
export const RUNTIME_HEADERS: readonly (RuntimeHeader | 'Server-Timing')[] = [
  'X-Request-Id',
  'Link',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'Deprecation',
  'Sunset',
  'Server-Timing',
  'Idempotent-Replayed',
  'ETag',
];

/** POST and PATCH honour an `Idempotency-Key` unless their contract refuses one; other methods are idempotent already. */
export function takesIdempotencyKey(e: EndpointDefinition): boolean {
  return isWrite(e) && e.idempotencyKey !== false;
}

/** A write that issues credentials: its answer is never stored, so a key sent to it is a 400. */
export function refusesIdempotencyKey(e: EndpointDefinition): boolean {
  return isWrite(e) && e.idempotencyKey === false;
}

const isWrite = (e: EndpointDefinition) => e.method === 'POST' || e.method === 'PATCH';

/** The headers of a successful answer. */
export function successHeaders(e: EndpointDefinition): RuntimeHeader[] {
  const headers: RuntimeHeader[] = ['X-Request-Id'];
  if (e.rateLimit) headers.push('RateLimit-Policy', 'RateLimit');
  if (e.deprecated) headers.push('Deprecation', 'Sunset');
  if (isPaged(e)) headers.push('Link');
  if (takesIdempotencyKey(e)) headers.push('Idempotent-Replayed');
  // With Cache-Control and Vary, whose values each contract sets (cacheHeaders).
  if (e.cache) headers.push('ETag');
  return headers;
}

/**
 * How a cached GET is answered (`Cache-Control`, `Vary`): an answer that depends on who asks is
 * `private` and varies with `Authorization`; `no-cache` (max-age 0) makes a cache revalidate each use.
 */
export function cacheHeaders(e: EndpointDefinition): { 'Cache-Control': string; Vary?: string } | undefined {
  if (!e.cache) return undefined;
  const age = e.cache.maxAge > 0 ? `max-age=${e.cache.maxAge}` : 'no-cache';
  const vary = [...(e.auth === 'public' ? [] : ['Authorization']), ...(e.cache.vary ?? [])];
  return { 'Cache-Control': `${e.cache.scope}, ${age}`, ...(vary.length > 0 ? { Vary: vary.join(', ') } : {}) };
}

/** The headers of a problem answer with this status. */
export function errorHeaders(status: number): RuntimeHeader[] {
  return status === 429 ? ['X-Request-Id', 'Retry-After', 'RateLimit-Policy', 'RateLimit'] : ['X-Request-Id'];
}

/** Every code the operation can answer with: what the runtime adds around its declared domain codes. */
export function errorCodes(e: EndpointDefinition): string[] {
  const codes = new Set<string>();
  const paged = isPaged(e);
  if (e.params || e.query || paged || e.headers || e.body || isWrite(e)) codes.add('VALIDATION_FAILED');
  if (e.body) ['MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].forEach((c) => codes.add(c));
  if (paged) codes.add('INVALID_CURSOR');
  if (e.auth !== 'public') ['UNAUTHENTICATED', 'TOKEN_EXPIRED'].forEach((c) => codes.add(c));
  // A path parameter that is not valid percent-encoding matches no route: 404.
  if (e.path.includes('{')) codes.add('NOT_FOUND');
  if (typeof e.auth === 'object') codes.add('FORBIDDEN');
  // A file answers conditional and range requests: a failed If-Match, a range past its end.
  if (isFile(e)) ['PRECONDITION_FAILED', 'RANGE_NOT_SATISFIABLE'].forEach((c) => codes.add(c));
  // A write that takes If-Match answers 412 when the representation changed since the client read it.
  if (e.ifMatch) codes.add('PRECONDITION_FAILED');
  for (const code of e.errors ?? []) codes.add(code);
  if (e.rateLimit) codes.add('RATE_LIMITED');
  // A key still running is a 409, a key reused with another request a 422; a malformed key (or
  // one sent to an operation that refuses keys) is a VALIDATION_FAILED, added above for writes.
  if (takesIdempotencyKey(e)) ['CONFLICT', 'IDEMPOTENCY_KEY_REUSED'].forEach((c) => codes.add(c));
  codes.add('INTERNAL');
  return [...codes];
}

/**
 * The one rule for a failure that is the client's doing (a wrong password, a bad code): a 4xx
 * other than 429. Failure-only rate limits count these, over HTTP and over sockets alike.
 */
export function isClientFailure(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}
