import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  type Endpoint,
  type ErrorRegistry,
  type FileResult,
  isFile,
  isStream,
  pageKeyOf,
  rateLimitsOf,
  refusesIdempotencyKey,
  takesIdempotencyKey,
} from '../contract';
import { ApiError } from '../core/api-error';
import { compiledSerializer } from '../core/compiled-serializer';
import {
  type Call,
  type CompiledOperation,
  checkOutput,
  createCore,
  type InputPart,
  type OperationSpec,
  type Outcome,
} from '../core/operation';
import type { LimiterFactory, LimitSubject } from '../core/rate-limit';
import { validationError } from '../core/validation';
import { signedInUser, type AuthUser, type CurrentRoles, type TokenVerifier } from './auth';
import { parsedBody, readJsonBody } from './body';
import { conditionalGet, ifMatchHolds } from './caching';
import { sendFile } from './file-response';
import { sendStream, serialized } from './stream-response';
import type { CursorCodec } from './cursor';
import { MissingHandlersError, RESERVED_CONTEXT_KEYS, type RouteDefinition } from './handler';
import { encodeResult, httpShape, JsonText, queryObject, replayableHeaders, takePage, type Encoded, type HttpShape } from './http-codec';
import type { IdempotencyStore } from './idempotency';
import type { ProblemWriter } from './problem';
import type { ResponseContext } from './request-context';
import { startRequest, type RequestState } from './request-state';
import { RouteTable } from './route-table';
import { activeTracer, startRequestSpan } from './tracing';

/**
 * The contract router, the HTTP layer over the core: ONE middleware holding a precompiled route
 * table. It matches, authenticates, decodes the request for the core (which limits, validates,
 * calls the handler and checks its result), handles Idempotency-Keys, and writes the envelope
 * with writeHead/end. Everything is decided at build time so the per-request path does only the
 * work the request needs.
 */
/** A request a rate limit refused: which operation and limit, who, and the body (limits keyed on its fields read it). */
export interface RateLimitedEvent {
  operationId: string;
  limit: string | undefined;
  userId: string | undefined;
  ip: string;
  /** The validated body for a limit checked after validation; undefined for one checked before. */
  body: unknown;
}

export interface RouterOptions {
  routes: RouteDefinition[];
  services: object;
  verifier: TokenVerifier;
  /** Fresh roles for operations that need one (else the token's). */
  currentRoles?: CurrentRoles;
  /** Told of each request a rate limit refused, after the warning is logged. */
  onRateLimited?: (event: RateLimitedEvent) => void;
  cursors: CursorCodec;
  writeProblem: ProblemWriter;
  log: Logger;
  bodyLimitBytes: number;
  limiters: LimiterFactory;
  responses: ResponseContext;
  /** Every error code with its HTTP status (runtime and domain codes). */
  errors: ErrorRegistry;
  /** Where the answers to requests with an Idempotency-Key are kept. */
  idempotency: IdempotencyStore;
  /** The client's address, for rate limits (honours the trust-proxy setting). */
  clientAddress: (req: IncomingMessage) => string;
  /** Backpressure (see ContractMiddlewareOptions.maxConcurrentRequests and handlerTimeoutMs). */
  maxConcurrentRequests?: number;
  handlerTimeoutMs?: number;
  /** The signed-in user as request spans name them (`user.hash`), never the id itself. */
  hashUser: (userId: string) => string;
}

/** How long a client is asked to wait when this instance is too busy or a handler overran. */
const BUSY_RETRY_AFTER_SECONDS = 1;

function busy(detail: string): ApiError {
  return new ApiError('SERVICE_UNAVAILABLE', detail, { headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) } });
}

interface CompiledRoute extends HttpShape {
  operation: CompiledOperation;
  handler: (input: unknown, ctx: unknown) => unknown;
  roles: ReadonlySet<string> | undefined;
  acceptsIdempotencyKey: boolean;
  refusesIdempotencyKey: boolean;
  /** The answer is a file, streamed rather than enveloped. */
  file: boolean;
  /** The answer is NDJSON items, streamed as the handler yields them. */
  stream: boolean;
}

type Next = (error?: unknown) => void;

export function createContractRouter(options: RouterOptions) {
  assertHandlers(options.routes);
  assertServices(options.services);
  const { send } = options.responses;
  const bodyOptions = { limitBytes: options.bodyLimitBytes };
  const core = createCore({
    limiters: options.limiters,
    errors: options.errors,
    onRateLimited: (operation, { subject, requestId }, refusal) => {
      const limit = refusal.extra.limit;
      options.log.warn(
        { security: 'rate_limited', operationId: operation.spec.name, limit, userId: subject.userId, ip: subject.ip, reqId: requestId },
        `security: rate limit reached for ${operation.spec.name}`,
      );
      options.onRateLimited?.({ operationId: operation.spec.name, limit, userId: subject.userId, ip: subject.ip, body: subject.body });
    },
  });
  const table = new RouteTable<CompiledRoute>();
  /** Contract requests being handled now (until their handler and encoding are done). */
  let inFlight = 0;
  // Roles that grant something: a token claiming one has its roles read afresh (see signedInUser).
  const privileged = new Set(options.routes.flatMap(({ endpoint }) => (typeof endpoint.auth === 'object' ? endpoint.auth.roles : [])));
  for (const { endpoint, handler } of options.routes) {
    table.add(endpoint.method, endpoint.fullPath, {
      ...httpShape(endpoint),
      operation: core.compile(operationSpec(endpoint)),
      handler: handler as CompiledRoute['handler'],
      roles: typeof endpoint.auth === 'object' ? new Set(endpoint.auth.roles) : undefined,
      acceptsIdempotencyKey: takesIdempotencyKey(endpoint),
      refusesIdempotencyKey: refusesIdempotencyKey(endpoint),
      file: isFile(endpoint),
      stream: isStream(endpoint),
    });
  }

  /**
   * One request on its way through the router: what the steps share instead of a list of
   * arguments. It is also the core's `Call` (its methods read the input, run the transport's step
   * and the handler) and the rate limits' subject, so a request allocates one object of its own.
   */
  class Exchange implements Call, LimitSubject {
    user: AuthUser | null = null;
    userId: string | undefined = undefined;
    body: unknown = undefined;
    /** The claimed Idempotency-Key, released if the handler fails. */
    idempotency: { key: string; fingerprint: string } | undefined = undefined;
    private address: string | undefined = undefined;

    constructor(
      readonly req: IncomingMessage,
      readonly res: ServerResponse,
      readonly route: CompiledRoute,
      readonly state: RequestState,
      readonly params: Record<string, string>,
      readonly rawQuery: string,
    ) {}

    get subject(): LimitSubject {
      return this;
    }

    get requestId(): string {
      return this.state.id;
    }

    /** The client's address, worked out only when something asks for it. */
    get ip(): string {
      this.address ??= options.clientAddress(this.req);
      return this.address;
    }

    read(part: InputPart): unknown {
      return read(this, part);
    }

    prepare(input: Record<string, unknown>) {
      return prepare(this, input);
    }

    handler(input: Record<string, unknown>): unknown {
      return this.route.handler(input, newContext(this));
    }
  }

  /**
   * The operation's outcome, or a 503 once `handlerTimeoutMs` has passed. The handler cannot be
   * stopped: it runs on, and a claimed Idempotency-Key is settled by its real outcome (stored, or
   * freed on failure), so a retry with the key replays what actually happened instead of doing it twice.
   */
  function execute(x: Exchange): Promise<Outcome> {
    const run = core.execute(x.route.operation, x);
    const limit = options.handlerTimeoutMs;
    if (!limit) return run;
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        const claimed = x.idempotency;
        // The late outcome, not this timeout, decides what the key holds.
        x.idempotency = undefined;
        if (claimed) {
          run
            .then(
              (outcome) => options.idempotency.finish(claimed.key, claimed.fingerprint, storable(x, outcome)),
              () => options.idempotency.abandon(claimed.key, claimed.fingerprint),
            )
            .catch((error: unknown) => options.log.error({ err: error }, 'settling an Idempotency-Key after a timeout failed'));
        }
        options.log.warn({ reqId: x.state.id, route: x.state.route, ms: limit }, 'handler timed out');
        const detail = `The request took longer than ${limit} ms and was given up; it may still complete`;
        // Trying again is safe for a read, or a write whose Idempotency-Key will replay what it did;
        // another write may have been made: no Retry-After invites sending it twice.
        const safe = claimed !== undefined || x.req.method === 'GET' || x.req.method === 'HEAD';
        reject(safe ? busy(detail) : new ApiError('SERVICE_UNAVAILABLE', detail));
      }, limit);
      run.then(
        (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** A JSON outcome as the Idempotency-Key store keeps it. */
  function storable(x: Exchange, outcome: Outcome): Encoded {
    const response = encodeResult(x.route, outcome.value, merge(x.route.fixedHeaders, outcome.headers), x.req, x.rawQuery, options.cursors);
    return { ...response, headers: replayableHeaders(response.headers) };
  }

  async function handle(x: Exchange): Promise<void> {
    x.state.route = x.route.endpoint.fullPath;
    x.user = await authenticate(x);
    x.userId = x.user?.id;
    if (x.user && x.state.span?.isRecording()) x.state.span.setAttribute('user.hash', options.hashUser(x.user.id));
    let response: Encoded;
    // Until the answer is stored, any failure (the handler's, or encoding its result) frees the key.
    try {
      const outcome = await execute(x);
      const headers = merge(x.route.fixedHeaders, outcome.headers);
      if (outcome.replayed) {
        // The stored answer, with this request's limit headers.
        const { status, body, headers: stored } = outcome.value as Encoded;
        return send(x.req, x.res, status, body, undefined, { ...stored, ...headers, 'Idempotent-Replayed': 'true' });
      }
      if (x.route.file) {
        return sendFile(x.req, x.res, outcome.value as FileResult, headers, options.responses, (error) =>
          options.writeProblem(x.req, x.res, error),
        );
      }
      if (x.route.stream)
        return await sendStream(x.req, x.res, outcome.value as AsyncIterable<string>, headers, options.responses, options.log);
      response = encodeResult(x.route, outcome.value, headers, x.req, x.rawQuery, options.cursors);
      if (x.route.caching) response = conditionalGet(x.req, response, x.route.caching);
    } catch (error) {
      // The handler's error is the answer, also when the store cannot free the key (it expires).
      if (x.idempotency) {
        const { key, fingerprint } = x.idempotency;
        await options.idempotency.abandon(key, fingerprint).catch((cause: unknown) => keyLost(x, cause, 'freeing'));
      }
      throw error;
    }
    if (x.idempotency) {
      // The work is done: a store out of reach now must not turn its answer into an error the
      // client would retry. The answer is stored once the store is back (settlingIdempotency);
      // meanwhile a retry here replays it, one on another instance gets 409.
      await options.idempotency
        .finish(x.idempotency.key, x.idempotency.fingerprint, { ...response, headers: replayableHeaders(response.headers) })
        .catch((cause: unknown) => keyLost(x, cause, 'storing the answer to'));
    }
    send(x.req, x.res, response.status, response.body, undefined, response.headers);
  }

  function keyLost(x: Exchange, error: unknown, doing: string): void {
    options.log.error({ err: error, reqId: x.state.id, route: x.state.route }, `${doing} an Idempotency-Key failed`);
  }

  function read(x: Exchange, part: InputPart): unknown {
    switch (part) {
      case 'params':
        return x.params;
      case 'query':
        return queryObject(x.rawQuery, x.route.arrayQueryKeys);
      case 'headers':
        return x.req.headers;
      default:
        return readBody(x.req);
    }
  }

  /**
   * Mounted in an Express app, a body parser of the app's (express.json()) may have read the
   * stream already: its result is held to the same rules (JSON only, the size limit, the input
   * rules) and validated like any other body. Otherwise the router reads it.
   */
  function readBody(req: IncomingMessage): unknown {
    if (req.readableEnded || (req as { _body?: boolean })._body === true) return parsedBody(req, bodyOptions);
    return readJsonBody(req, bodyOptions);
  }

  /** After validation: the page query becomes `page`, and an Idempotency-Key is claimed (or replayed). */
  function prepare(x: Exchange, input: Record<string, unknown>): Promise<{ replay: Encoded } | undefined> | undefined {
    if (x.route.pageKey) takePage(x.route, input, options.cursors);
    const given = x.req.headers['idempotency-key'];
    if (given === undefined) return undefined;
    if (x.route.refusesIdempotencyKey) {
      throw validationError([
        {
          path: '/headers/idempotency-key',
          code: 'not_accepted',
          message: 'This operation issues credentials: its answer is never stored, so it takes no Idempotency-Key',
        },
      ]);
    }
    if (!x.route.acceptsIdempotencyKey) return undefined;
    return claimIdempotencyKey(x, given, input);
  }

  /**
   * An `Idempotency-Key` on a POST or PATCH: scoped to the operation and the caller (their
   * session, when signed in: a key from session 1 must not answer for session 2), and bound to
   * the request it first came with (params, query and body), so it cannot replay someone else's.
   */
  async function claimIdempotencyKey(x: Exchange, given: string | string[], input: Record<string, unknown>) {
    if (typeof given !== 'string' || !IDEMPOTENCY_KEY.test(given)) {
      throw validationError([{ path: '/headers/idempotency-key', code: 'invalid_string', message: '1–255 visible ASCII characters' }]);
    }
    const caller = x.user ? `u:${x.user.id}:${x.user.sessionId ?? ''}` : `ip:${x.ip}`;
    const key = `${x.route.endpoint.operationId}:${caller}:${given}`;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([input.params, input.query, input.body]))
      .digest('base64url');
    const claim = await options.idempotency.begin(key, fingerprint);
    if (claim.state === 'mismatch') throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request');
    if (claim.state === 'in-progress') throw new ApiError('CONFLICT', 'A request with this Idempotency-Key is still running; retry later');
    if (claim.state === 'done') return { replay: claim.response };
    x.idempotency = { key, fingerprint };
    return undefined;
  }

  async function authenticate(x: Exchange): Promise<AuthUser | null> {
    const { endpoint, roles } = x.route;
    // Public operations do not look at credentials, so a stale token never breaks them.
    if (endpoint.auth === 'public') return null;
    if (endpoint.auth === 'optional' && x.req.headers.authorization === undefined) return null;
    return signedInUser(x.req.headers.authorization, options.verifier, roles, options.currentRoles, privileged);
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
      get(this: { [EXCHANGE]: Exchange }) {
        const x = this[EXCHANGE];
        return { ip: x.ip, userAgent: x.req.headers['user-agent'] };
      },
    },
    // A getter handing out a bound function: handlers destructure their context.
    precondition: {
      get(this: { [EXCHANGE]: Exchange }) {
        const x = this[EXCHANGE];
        return (current: unknown) => {
          // The representation as the GET writes it: this operation's own answer schema, the same bytes.
          const { response, operationId } = x.route.endpoint;
          if (!('body' in response)) throw new Error(`${operationId} takes If-Match but answers no JSON body to compare`);
          const json = `{"data":${checkedJson(operationId, response.body, current).text}}`;
          if (!ifMatchHolds(x.req.headers['if-match'], json))
            throw new ApiError('PRECONDITION_FAILED', 'The resource changed since its ETag was read: read it again, then retry');
        };
      },
    },
  }) as object;

  function newContext(x: Exchange) {
    const ctx = Object.create(contextPrototype) as { user: AuthUser | null; requestId: string; [EXCHANGE]: Exchange };
    ctx.user = x.user;
    ctx.requestId = x.state.id;
    ctx[EXCHANGE] = x;
    return ctx;
  }

  /** Serves contract routes, passes everything else on (a connect-style middleware). */
  function middleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const state = startRequest(req);
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
    // Tracing off (no provider registered), this look-up is all a request pays for it.
    const tracer = activeTracer();
    const traced =
      tracer && startRequestSpan(tracer, req, state, route.endpoint.fullPath, q < 0 ? url : url.slice(0, q), options.clientAddress(req));
    // Past the bound, refused at once: queueing would only make every request late.
    if (options.maxConcurrentRequests && inFlight >= options.maxConcurrentRequests) {
      return options.writeProblem(req, res, busy('This instance is handling as many requests as it can; try again shortly'));
    }
    inFlight++;
    const exchange = new Exchange(req, res, route, state, match!.params, q < 0 ? '' : url.slice(q + 1));
    // The handler's work (its queries, its calls out) runs in the span's context, so its spans are the request's children.
    if (traced) context.with(traced, serve, undefined, exchange);
    else serve(exchange);
  }

  function serve(x: Exchange): void {
    handle(x)
      .catch((error: unknown) => options.writeProblem(x.req, x.res, error))
      .finally(() => inFlight--);
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

  return { middleware, allowedMethods, inFlight: () => inFlight };
}

/** The core's view of an endpoint: its limits, its four input parts and its output check. */
function operationSpec(endpoint: Endpoint): OperationSpec {
  const { response, operationId } = endpoint;
  let output: OperationSpec['output'] = () => undefined;
  if ('page' in response) {
    const items = z.array(response.page);
    const key = pageKeyOf(response);
    // The next position goes out in the cursor (signed, not encrypted): only the key's own fields.
    output = (result) => {
      const { items: found, next } = result as { items: unknown[]; next: unknown };
      return {
        items: checkedJson(operationId, items, found),
        next: next == null ? null : checkOutput(`${operationId} (next page key)`, key, next),
      };
    };
  } else if ('body' in response) {
    const body = response.body;
    output = (result) => checkedJson(operationId, body, result);
  } else if ('stream' in response) {
    // Each item checked (and stripped of undeclared fields) as it goes out, as JSON text.
    const item = response.stream.item;
    output = (result) => serialized(result as AsyncIterable<unknown>, (value) => checkedJson(operationId, item, value).text);
  } else if ('file' in response) {
    const types = new Set(response.file.types);
    output = (result) => {
      const { type } = result as FileResult;
      if (!types.has(type)) throw new Error(`${operationId} answered a file of type ${type}, which its contract does not list`);
      return result;
    };
  }
  return {
    name: operationId,
    rateLimits: rateLimitsOf(endpoint),
    parts: ['params', 'query', 'headers', 'body'],
    input: { params: endpoint.params, query: endpoint.requestQuery, headers: endpoint.headers, body: endpoint.requestBody },
    output,
  };
}

/**
 * A result checked, stripped and written as JSON in one pass by the schema's compiled serializer;
 * one it does not accept goes through checkOutput (Zod), which refuses it loudly.
 */
function checkedJson(operationId: string, schema: z.ZodType, result: unknown): JsonText {
  const text = compiledSerializer(schema)(result);
  return new JsonText(typeof text === 'string' ? text : JSON.stringify(checkOutput(operationId, schema, result)));
}

function assertHandlers(routes: RouteDefinition[]): void {
  const missing = routes.filter((route) => typeof route.handler !== 'function').map((route) => route.endpoint.operationId);
  if (missing.length > 0) throw new MissingHandlersError(missing);
}

/** A service named like a context field would be silently shadowed by it; the types refuse it too. */
function assertServices(services: object): void {
  const clashing = RESERVED_CONTEXT_KEYS.filter((key) => key in services);
  if (clashing.length > 0) throw new Error(`Services may not be named ${clashing.join(', ')}: the handler context uses these names`);
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Where a handler context keeps its request, out of the way of the services' names. */
const EXCHANGE = Symbol('exchange');

function merge(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> | undefined {
  return a && b ? { ...a, ...b } : (a ?? b);
}
