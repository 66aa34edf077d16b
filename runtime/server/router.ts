import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { rateLimitsOf, takesIdempotencyKey, type Endpoint, type PageKey } from '../contract';
import { ApiError } from './api-error';
import { bearerToken, unauthenticated, type AuthUser, type TokenVerifier } from './auth';
import { readJsonBody } from './body';
import type { CursorCodec } from './cursor';
import type { RouteDefinition } from './handler';
import type { IdempotencyStore, StoredResponse } from './idempotency';
import type { ProblemWriter } from './problem';
import { createOperationLimits, type LimiterFactory, type LimitSubject, type OperationLimits } from './rate-limit';
import type { ResponseContext } from './request-context';
import { requestPath, requestState, startRequest } from './request-state';
import { RouteTable } from './route-table';
import { parseInput, validationError } from './validation';

/**
 * The contract router: ONE middleware holding a precompiled route table. It authenticates,
 * rate-limits, reads and validates input, calls the handler, filters the result through the
 * response schema and writes the envelope with writeHead/end. Everything is decided at build time
 * so the per-request path does only the work the request needs.
 */
export interface RouterOptions {
  routes: RouteDefinition[];
  services: object;
  verifier: TokenVerifier;
  cursors: CursorCodec;
  writeProblem: ProblemWriter;
  log: Logger;
  bodyLimitBytes: number;
  limiters: LimiterFactory;
  responses: ResponseContext;
  /** HTTP status of an error code, so failure-only limits count client failures (4xx) alone. */
  errorStatus: (code: string) => number | undefined;
  /** Where the answers to requests with an Idempotency-Key are kept. */
  idempotency: IdempotencyStore;
  /** The client's address, for rate limits (honours the trust-proxy setting). */
  clientAddress: (req: IncomingMessage) => string;
}

interface CompiledRoute {
  endpoint: Endpoint;
  handler: (input: unknown, ctx: unknown) => unknown;
  roles: ReadonlySet<string> | undefined;
  limits: OperationLimits | undefined;
  output: z.ZodType | undefined;
  fixedHeaders: Record<string, string> | undefined;
  /** Query keys declared as arrays: `?tag=a` alone must still arrive as `['a']`. */
  arrayQueryKeys: ReadonlySet<string>;
  /** POST and PATCH honour an Idempotency-Key unless their contract refuses one; the other methods are idempotent already. */
  acceptsIdempotencyKey: boolean;
  refusesIdempotencyKey: boolean;
}

type Request = IncomingMessage;
type Next = (error?: unknown) => void;

export function createContractRouter(options: RouterOptions) {
  const table = new RouteTable<CompiledRoute>();
  const bodyOptions = { limitBytes: options.bodyLimitBytes };
  const { send } = options.responses;
  for (const { endpoint, handler } of options.routes) {
    table.add(endpoint.method, endpoint.fullPath, compile(endpoint, handler as CompiledRoute['handler'], options));
  }

  async function handle(route: CompiledRoute, rawParams: Record<string, string>, rawQuery: string, req: Request, res: ServerResponse) {
    const { endpoint } = route;
    const state = requestState(req);
    state.route = endpoint.fullPath;

    const user = await authenticate(route, req);
    let headers = route.fixedHeaders;
    const { limits } = route;
    const subject: LimitSubject | undefined = limits && { ip: options.clientAddress(req), userId: user?.id, body: undefined };
    if (limits) headers = merge(headers, await limited(route, subject!, 'before-validation', state.id));

    const input: Record<string, unknown> = {
      params: parse(endpoint.params, rawParams, 'params'),
      query: parse(endpoint.requestQuery, rawQuery ? queryObject(rawQuery, route.arrayQueryKeys) : {}, 'query'),
      headers: parse(endpoint.headers, req.headers, 'headers'),
      body: endpoint.requestBody ? parse(endpoint.requestBody, await readJsonBody(req, bodyOptions), 'body') : undefined,
    };
    if (limits) {
      subject!.body = input.body;
      headers = merge(headers, await limited(route, subject!, 'after-validation', state.id));
    }
    if ('page' in endpoint.response) {
      const { limit, cursor, ...filters } = input.query as { limit: number; cursor?: string };
      input.query = filters;
      input.page = { limit, after: cursor ? options.cursors.decode(cursor) : null };
    }

    if (route.refusesIdempotencyKey && req.headers['idempotency-key'] !== undefined) {
      throw validationError([{ path: '/headers/idempotency-key', code: 'not_accepted', message: 'This operation issues credentials: its answer is never stored, so it takes no Idempotency-Key' }]);
    }
    const idempotency = route.acceptsIdempotencyKey ? await claimIdempotencyKey(route, req, user, input) : undefined;
    if (idempotency?.replay) {
      // The replay counts as the success the first answer was, and carries this request's limit headers.
      if (limits?.countsFailures) await limits.settle(subject!, 'success');
      const { status, body, headers: stored } = idempotency.replay;
      return send(req, res, status, body, undefined, { ...stored, ...headers, 'Idempotent-Replayed': 'true' });
    }
    let response: StoredResponse;
    try {
      response = await run(route, input, newContext(user, state.id, req), limits, subject, req, rawQuery, headers);
    } catch (error) {
      if (idempotency) await options.idempotency.abandon(idempotency.key);
      throw error;
    }
    if (idempotency) {
      await options.idempotency.finish(idempotency.key, idempotency.fingerprint, { ...response, headers: replayableHeaders(response.headers) });
    }
    send(req, res, response.status, response.body, undefined, response.headers);
  }

  /** Calls the handler (settling failure-only limits) and shapes its result into the envelope. */
  async function run(
    route: CompiledRoute,
    input: Record<string, unknown>,
    ctx: object,
    limits: OperationLimits | undefined,
    subject: LimitSubject | undefined,
    req: Request,
    rawQuery: string,
    headers: Record<string, string> | undefined,
  ): Promise<StoredResponse> {
    const { endpoint } = route;
    let result: unknown;
    if (limits?.countsFailures) {
      try {
        result = await route.handler(input, ctx);
      } catch (error) {
        const clientFailure = error instanceof ApiError && isClientFailure(options.errorStatus(error.code));
        await limits.settle(subject!, clientFailure ? 'client-failure' : 'server-failure');
        throw error;
      }
      await limits.settle(subject!, 'success');
    } else {
      result = await route.handler(input, ctx);
    }

    if (endpoint.response.status === 204) return { status: 204, body: undefined, headers };
    if ('page' in endpoint.response) {
      const { items, next } = result as { items: unknown[]; next: PageKey | null };
      const nextCursor = next ? options.cursors.encode(next) : null;
      const withLink = nextCursor ? { ...headers, Link: `<${nextLink(req, route, rawQuery, nextCursor)}>; rel="next"` } : headers;
      const page = `{"nextCursor":${JSON.stringify(nextCursor)},"hasMore":${nextCursor !== null}}`;
      return { status: 200, body: `{"data":${JSON.stringify(filter(route, items))},"page":${page}}`, headers: withLink };
    }
    return { status: endpoint.response.status, body: `{"data":${JSON.stringify(filter(route, result))}}`, headers };
  }

  /**
   * An `Idempotency-Key` on a POST or PATCH: scoped to the operation and the caller (their
   * session, when signed in: a key from session 1 must not answer for session 2), and bound to
   * the request it first came with (params, query and body), so it cannot replay someone else's.
   */
  async function claimIdempotencyKey(route: CompiledRoute, req: Request, user: AuthUser | null, input: Record<string, unknown>) {
    const given = req.headers['idempotency-key'];
    if (given === undefined) return undefined;
    if (typeof given !== 'string' || !IDEMPOTENCY_KEY.test(given)) {
      throw validationError([{ path: '/headers/idempotency-key', code: 'invalid_string', message: '1–255 visible ASCII characters' }]);
    }
    const caller = user ? `u:${user.id}:${user.sessionId ?? ''}` : `ip:${options.clientAddress(req)}`;
    const key = `${route.endpoint.operationId}:${caller}:${given}`;
    const fingerprint = createHash('sha256').update(JSON.stringify([input.params, input.query, input.body])).digest('base64url');
    const claim = await options.idempotency.begin(key, fingerprint);
    if (claim.state === 'mismatch') throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request');
    if (claim.state === 'in-progress') throw new ApiError('CONFLICT', 'A request with this Idempotency-Key is still running; retry later');
    return { key, fingerprint, replay: claim.state === 'done' ? claim.response : undefined };
  }

  /** Checks an operation's limits; a refusal is a security event (a lockout, for sign-in). */
  async function limited(route: CompiledRoute, subject: LimitSubject, stage: 'before-validation' | 'after-validation', reqId: string) {
    try {
      return await route.limits!.check(stage, subject);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'RATE_LIMITED') {
        options.log.warn(
          { security: 'rate_limited', operationId: route.endpoint.operationId, userId: subject.userId, ip: subject.ip, reqId },
          `security: rate limit reached for ${route.endpoint.operationId}`,
        );
      }
      throw error;
    }
  }

  async function authenticate(route: CompiledRoute, req: Request): Promise<AuthUser | null> {
    // Public operations do not look at credentials, so a stale token never breaks them.
    if (route.endpoint.auth === 'public') return null;
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthenticated();
    const user = await options.verifier.verify(token);
    if (route.roles && !user.roles.some((role) => route.roles!.has(role))) {
      throw new ApiError('FORBIDDEN', 'Your role does not allow this operation');
    }
    return user;
  }

  /**
   * Parsing through the response schema drops undeclared fields (a stray passwordHash never
   * leaves) and refuses a result that breaks the contract: the client gets a 500 rather than
   * data its types do not describe, and the log names the operation and the broken fields.
   */
  function filter(route: CompiledRoute, value: unknown): unknown {
    const parsed = route.output!.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new Error(`The result of ${route.endpoint.operationId} breaks its response schema: ${parsed.error.message}`);
  }

  /**
   * Handler contexts share one prototype holding the services and the lazy parts (a request-bound
   * log, the client's address), so a request allocates a small object of its own fields only.
   */
  const contextPrototype = Object.create(options.services as object, {
    log: {
      get(this: { requestId: string }) {
        return options.log.child({ reqId: this.requestId });
      },
    },
    client: {
      get(this: { req: IncomingMessage }) {
        const req = this.req;
        return { ip: options.clientAddress(req), userAgent: req.headers['user-agent'] };
      },
    },
  }) as object;

  function newContext(user: AuthUser | null, requestId: string, req: IncomingMessage) {
    const ctx = Object.create(contextPrototype) as { user: AuthUser | null; requestId: string; req: IncomingMessage };
    ctx.user = user;
    ctx.requestId = requestId;
    ctx.req = req;
    return ctx;
  }

  /** Serves contract routes, passes everything else on (a connect-style middleware). */
  function middleware(req: Request, res: ServerResponse, next: Next): void {
    startRequest(req);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let match;
    try {
      match = table.match(q < 0 ? url : url.slice(0, q));
    } catch {
      return options.writeProblem(req, res, new ApiError('NOT_FOUND', 'The path is not valid URL encoding'));
    }
    const route = match && (match.byMethod.get(req.method!) ?? (req.method === 'HEAD' ? match.byMethod.get('GET') : undefined));
    if (!route) return next();
    handle(route, match!.params, q < 0 ? '' : url.slice(q + 1), req, res).catch((error: unknown) =>
      options.writeProblem(req, res, error),
    );
  }

  /** Methods served at a path, for the 405 `Allow` header; empty when the path is unknown. */
  function allowedMethods(path: string): string[] {
    try {
      const methods = [...(table.match(path)?.byMethod.keys() ?? [])];
      if (methods.includes('GET')) methods.push('HEAD');
      return methods;
    } catch {
      return [];
    }
  }

  return { middleware, allowedMethods };
}

function compile(endpoint: Endpoint, handler: CompiledRoute['handler'], options: RouterOptions): CompiledRoute {
  const response = endpoint.response;
  const auth = endpoint.auth;
  return {
    endpoint,
    handler,
    roles: typeof auth === 'object' ? new Set(auth.roles) : undefined,
    limits: endpoint.rateLimit ? createOperationLimits(endpoint.operationId, rateLimitsOf(endpoint), options.limiters) : undefined,
    output: 'page' in response ? z.array(response.page) : 'body' in response ? response.body : undefined,
    fixedHeaders: endpoint.deprecated ? deprecationHeaders(endpoint.deprecated) : undefined,
    acceptsIdempotencyKey: takesIdempotencyKey(endpoint),
    refusesIdempotencyKey: (endpoint.method === 'POST' || endpoint.method === 'PATCH') && !takesIdempotencyKey(endpoint),
    arrayQueryKeys: new Set(
      Object.entries(endpoint.requestQuery?.shape ?? {})
        .filter(([, schema]) => unwrap(schema as z.ZodType) instanceof z.ZodArray)
        .map(([key]) => key),
    ),
  };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Rate-limit headers describe the request that carried them; a replay sends its own. */
function replayableHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  const kept = Object.entries(headers).filter(([name]) => !/^(ratelimit|ratelimit-policy|retry-after)$/i.test(name));
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

function isClientFailure(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}

function merge(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> | undefined {
  return a && b ? { ...a, ...b } : (a ?? b);
}

function parse(schema: z.ZodType | undefined, value: unknown, location: string): unknown {
  if (!schema) return location === 'body' ? undefined : {};
  return parseInput(schema, value, location);
}

/**
 * The query as an object (`application/x-www-form-urlencoded`). Unlike URLSearchParams, a
 * malformed percent-encoding or one that is not UTF-8 is refused rather than read as U+FFFD.
 */
function queryObject(raw: string, arrayKeys: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeQueryPart(pair.slice(eq + 1));
    const seen = out[key];
    if (seen === undefined) out[key] = arrayKeys.has(key) ? [value] : value;
    else out[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

function decodeQueryPart(part: string): string {
  const text = part.includes('+') ? part.replaceAll('+', ' ') : part;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw validationError([{ path: '/query', code: 'invalid_encoding', message: 'The query string holds a malformed percent-encoding (or one that is not UTF-8)' }]);
  }
}

/** The schema under optional/default/nullable wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The next page's URL: the declared query parameters only, so an undeclared one cannot grow the header. */
function nextLink(req: IncomingMessage, route: CompiledRoute, rawQuery: string, cursor: string): string {
  const path = requestPath(req);
  const declared = route.endpoint.requestQuery?.shape ?? {};
  const query = new URLSearchParams([...new URLSearchParams(rawQuery)].filter(([key]) => Object.hasOwn(declared, key)));
  query.set('cursor', cursor);
  return `${path}?${query}`;
}

function deprecationHeaders(deprecation: NonNullable<Endpoint['deprecated']>): Record<string, string> {
  const headers: Record<string, string> = { Deprecation: `@${Math.floor(Date.parse(deprecation.since) / 1000)}` };
  if (deprecation.sunset) headers.Sunset = new Date(deprecation.sunset).toUTCString();
  return headers;
}
