import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import proxyaddr from 'proxy-addr';
import type { Logger } from 'pino';
import { RUNTIME_HEADERS, runtimeErrors, UPLOAD_HEADERS, type ErrorRegistry } from '../contract';
import { ApiError } from '../core/api-error';
import { createTokenVerifier, type AuthUser, type CurrentRoles, type TokenSettings, type TokenVerifier } from './auth';
import { createCursorCodec } from './cursor';
import { docsHandlers } from './docs';
import type { RouteDefinition } from './handler';
import { bearerTokenMatches, createMetrics, gauge, type Metrics, type MetricsAccess } from './metrics';
import { memoryIdempotency, settlingIdempotency, type IdempotencyStore } from './idempotency';
import { createProblemWriter, type ProblemWriter } from './problem';
import { sharedLimiters, type LimiterFactory } from '../core/rate-limit';
import { createCors } from './cors';
import { report, type UnexpectedErrorHook } from './error-hook';
import { createResponseContext, type ResponseContext } from './request-context';
import { securityHeaders } from './security-headers';
import { requestPath, requestState } from './request-state';
import { createContractRouter, type RateLimitedEvent } from './router';
import { activeTracer, startRequestSpan, traceIdOf, userHasher } from './tracing';
import { compileTrust, toTrustProxy, type TrustProxy } from './trust-proxy';
import { createUploadHandler, type UploadHandler, type UploadRoute } from './uploads';

/** What the contract routes need, in either mode (their own app, or mounted in an Express app). */
export interface ContractMiddlewareOptions {
  routes: RouteDefinition[];
  /** Handed to every handler in its context (database stores, clocks, …). */
  services: object;
  api: { errors: ErrorRegistry; problemBaseUrl: string };
  /** How access tokens are checked: settings for a verifier, or one already built (to share it with real time). */
  auth: (TokenSettings & { isRevoked?: (user: AuthUser, issuedAt: number) => boolean | Promise<boolean> }) | TokenVerifier;
  /**
   * The roles a user has now, read for operations that need a role: a grant or a revocation then
   * applies on the next request. Without it, the roles in the access token decide.
   */
  currentRoles?: CurrentRoles;
  /**
   * Told of each request a rate limit refused (it is logged as a security event either way): e.g.
   * to put a sign-in lockout in an audit log. Must not throw; it is not awaited.
   */
  onRateLimited?: (event: RateLimitedEvent) => void;
  /**
   * Recognises errors that mean something the app depends on is down or saturated (a database that
   * cannot be reached, a pool with no free connection in time): the request is answered with the
   * problem returned (503 `SERVICE_UNAVAILABLE` with `Retry-After`, say) and logged as a warning,
   * instead of a 500. Anything it does not recognise stays an internal error.
   */
  unavailable?: (error: unknown, req: IncomingMessage) => ApiError | undefined;
  /**
   * Backpressure: at most this many contract requests in progress at once on this instance; one
   * more is refused at once with 503 `SERVICE_UNAVAILABLE` and `Retry-After: 1` rather than queued
   * behind the others. Unset: no bound.
   */
  maxConcurrentRequests?: number;
  /**
   * A handler that has not answered after this long gets its request answered 503
   * `SERVICE_UNAVAILABLE` (the handler runs on; an Idempotency-Key is settled by what it really
   * did). Unset: no limit.
   */
  handlerTimeoutMs?: number;
  /**
   * Told of every unexpected error (one a 500 answers), after it is logged: the place to send them
   * to an error tracker. It must not throw (what it throws is logged and dropped).
   */
  onUnexpectedError?: UnexpectedErrorHook;
  /** Signs page cursors; keep it apart from the token secret. */
  cursorSecret: Uint8Array;
  /**
   * The key of the signed-in user's hash on spans (`user.hash`, see tracing.ts), when tracing is on:
   * the same on every instance, and given to real time too, for one user to have one hash. Unset: a
   * random key of this process.
   */
  traceUserKey?: Uint8Array;
  log: Logger;
  /** Origins allowed by CORS; `*` allows any. */
  corsOrigins: string[];
  bodyLimitBytes?: number;
  limiters?: LimiterFactory;
  /** Where answers to requests with an Idempotency-Key are kept (memory by default; Redis to share). */
  idempotency?: IdempotencyStore;
  /**
   * Which proxies' `X-Forwarded-For` is believed, so rate limits see the client's address behind a
   * load balancer: a hop count, or the proxies' addresses (`'loopback, 10.0.0.0/8'` or a list).
   * Trusting every proxy (`true`) is refused. Unset: the peer's address is the client's.
   */
  trustProxy?: TrustProxy | string;
  metrics?: Metrics;
}

export interface AppOptions extends ContractMiddlewareOptions {
  /** The generated OpenAPI document, served at /openapi.json and browsable at /docs. */
  openapi: object;
  /**
   * The public JWK Set of the access-token keys (keys.ts), served at /.well-known/jwks.json so other
   * services can verify tokens; omitted, nothing is served there.
   */
  jwks?: { keys: object[] };
  /** The generated AsyncAPI document of the real-time events, served at /asyncapi.json. */
  asyncapi?: object;
  /**
   * Who may read `/metrics` on this listener: nobody (404, the default; serve them on a port of
   * their own with `metricsListener`), holders of a bearer token, or anyone (`'public'`).
   */
  metricsAccess?: MetricsAccess;
  /** Resumable upload resources (tus), served beside the contract routes. */
  uploads?: UploadRoute[];
}

export const DEFAULT_BODY_LIMIT = 100 * 1024;

/**
 * The contract routes as one Express-compatible middleware, for an existing Express app:
 * `app.use(api)` after the app's own middleware (sessions, compression, an auth library). Mount it
 * at the root (contract paths are full paths). It answers contract routes whole (validation,
 * envelopes, problems, 405 with `Allow`), and passes everything else to `next`. A body the app's
 * own parser (express.json()) has read already is held to the same rules (JSON only, no content
 * coding, the body limit, the input rules); an error of that parser is the app's to answer.
 */
export type ContractMiddleware = ((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void) & {
  metrics: Metrics;
};

interface ContractParts {
  router: ReturnType<typeof createContractRouter>;
  uploads: { path: string; handler: UploadHandler }[];
  responses: ResponseContext;
  writeProblem: ProblemWriter;
  metrics: Metrics;
  trust: ReturnType<typeof compileTrust>;
  clientAddress: (req: IncomingMessage) => string;
}

function contractParts(options: ContractMiddlewareOptions & { uploads?: UploadRoute[] }): ContractParts {
  const { log } = options;
  const metrics = options.metrics ?? createMetrics({ processMetrics: false });
  const responses = createResponseContext({
    log,
    metrics,
    security: securityHeaders(),
    cors: createCors({
      origins: options.corsOrigins,
      exposedHeaders: options.uploads?.length ? [...RUNTIME_HEADERS, ...UPLOAD_HEADERS] : [...RUNTIME_HEADERS],
      maxAgeSeconds: 600,
    }),
  });
  const writeProblem = createProblemWriter({
    responses,
    errors: options.api.errors,
    problemBaseUrl: options.api.problemBaseUrl,
    onInternalError: (req, error) => {
      const state = requestState(req);
      log.error({ reqId: state.id, traceId: traceIdOf(state.span), err: error }, 'unhandled error');
      report(options.onUnexpectedError, log, error, {
        requestId: state.id,
        method: req.method ?? 'GET',
        route: state.route ?? 'unmatched',
      });
    },
    onProblem: (req, code) => metrics.problem(requestState(req).route ?? 'unmatched', code),
    unavailable: options.unavailable,
    // The whole error, through the logger's serializer (it drops what a query carried).
    onUnavailable: (req, error) => log.warn({ reqId: requestState(req).id, err: error }, 'dependency unavailable'),
  });
  const trust = compileTrust(options.trustProxy === undefined ? undefined : toTrustProxy(options.trustProxy));
  const clientAddress = (req: IncomingMessage) => proxyaddr(req, trust);
  const verifier = 'verify' in options.auth ? options.auth : createTokenVerifier(options.auth);
  const limiters = options.limiters ?? sharedLimiters();
  const hashUser = userHasher(options.traceUserKey);
  const uploads = (options.uploads ?? []).map((route) => ({
    path: route.contract.fullPath,
    handler: createUploadHandler(route, {
      verifier,
      currentRoles: options.currentRoles,
      limiters,
      writeProblem,
      log,
      clientAddress,
      hashUser,
    }),
  }));
  const router = createContractRouter({
    clientAddress,
    errors: { ...runtimeErrors, ...options.api.errors },
    routes: options.routes,
    services: options.services,
    verifier,
    currentRoles: options.currentRoles,
    onRateLimited: (event) => {
      metrics.rateLimited(event.operationId, event.limit ?? event.operationId);
      options.onRateLimited?.(event);
    },
    cursors: createCursorCodec(options.cursorSecret),
    writeProblem,
    log,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    limiters,
    idempotency: settlingIdempotency(options.idempotency ?? memoryIdempotency(), log),
    responses,
    maxConcurrentRequests: options.maxConcurrentRequests,
    handlerTimeoutMs: options.handlerTimeoutMs,
    hashUser,
  });
  // How busy the instance is, next to the event-loop lag of the process metrics.
  gauge(
    metrics,
    'http_requests_in_flight',
    'Contract requests being handled now (past maxConcurrentRequests more are refused with 503)',
    router.inFlight,
  );
  return { router, uploads, responses, writeProblem, metrics, trust, clientAddress };
}

/** A wrong method on a contract path is a 405 with `Allow`; an unknown path is a 404 (or, mounted, the app's). */
function methodNotAllowed(parts: ContractParts, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const allowed = parts.router.allowedMethods(path);
  if (allowed.length === 0) return false;
  parts.writeProblem(
    req,
    res,
    new ApiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allowed.join(', ')}`, {
      headers: { Allow: allowed.join(', ') },
    }),
  );
  return true;
}

export function createContractMiddleware(options: ContractMiddlewareOptions): ContractMiddleware {
  const parts = contractParts(options);
  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) =>
    parts.router.middleware(req, res, () => {
      // A CORS preflight is the app's to answer (its cors middleware runs before this one).
      if (req.method === 'OPTIONS' || !methodNotAllowed(parts, req, res, requestPath(req))) next();
    });
  return Object.assign(middleware, { metrics: parts.metrics });
}

/** A Node request listener (for `http.createServer`, supertest, …) with the app's parts attached. */
export type App = ((req: IncomingMessage, res: ServerResponse) => void) & {
  metrics: Metrics;
  express: Express;
  /** Deletes the unfinished uploads past their expiry; returns how many. */
  deleteExpiredUploads(): Promise<number>;
};

/**
 * The API as its own app: contract routes are answered before and without Express (the fast
 * path); Express serves the spec, the docs, the metrics and the 404/405 problems.
 */
export function createApp(options: AppOptions): App {
  const parts = contractParts(options);
  const { router, responses, writeProblem, metrics } = parts;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', parts.trust);

  app.use(responses.expressContext as RequestHandler);

  // What Express serves is logged, counted and traced (a span named for the route, as a contract
  // request's) under its route too.
  const label =
    (route: string): RequestHandler =>
    (req, _res, next) => {
      const state = requestState(req);
      state.route = route;
      const tracer = activeTracer();
      if (!tracer) return next();
      context.with(startRequestSpan(tracer, req, state, route, requestPath(req), parts.clientAddress(req)), next);
    };
  // Written once, on first request: the docs page fetches it on every load.
  let openapiJson: string | undefined;
  app.get('/openapi.json', label('/openapi.json'), (_req, res) => {
    openapiJson ??= JSON.stringify(options.openapi);
    res.type('application/json').send(openapiJson);
  });
  if (options.asyncapi) {
    const asyncapiJson = JSON.stringify(options.asyncapi);
    app.get('/asyncapi.json', label('/asyncapi.json'), (_req, res) => {
      res.type('application/json').send(asyncapiJson);
    });
  }
  if (options.jwks) {
    const jwksJson = JSON.stringify(options.jwks);
    app.get('/.well-known/jwks.json', label('/.well-known/jwks.json'), (_req, res) => {
      // Other services cache it; a key added for a rotation is published well before it signs.
      res.set('Cache-Control', 'public, max-age=300').type('application/jwk-set+json').send(jwksJson);
    });
  }
  const title = (options.openapi as { info?: { title?: string } }).info?.title ?? 'API';
  // Swagger UI (see docs.ts); the API's root leads there.
  app.use('/docs', label('/docs'), ...docsHandlers(title));
  app.get('/', label('/'), (_req, res) => res.redirect(302, 'docs/'));
  const metricsAccess = options.metricsAccess ?? 'off';
  if (metricsAccess !== 'off') {
    app.get('/metrics', label('/metrics'), async (req, res) => {
      if (metricsAccess !== 'public' && !bearerTokenMatches(req.headers.authorization, metricsAccess.token)) {
        writeProblem(
          req,
          res,
          new ApiError('UNAUTHENTICATED', 'The metrics need the bearer token from the configuration', {
            headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
          }),
        );
        return;
      }
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  for (const { path, handler } of parts.uploads) {
    app.all(path, label(path), handler.collection);
    app.all(`${path}/:uploadId`, label(`${path}/{uploadId}`), handler.item);
  }

  app.use((req, res) => {
    if (!methodNotAllowed(parts, req, res, req.path)) writeProblem(req, res, new ApiError('NOT_FOUND', `Nothing at ${req.path}`));
  });
  app.use(((error, req, res, _next) => writeProblem(req, res, fromExpressError(error))) as ErrorRequestHandler);

  // Contract routes are answered whole by the router, before and without Express; everything
  // else (docs, spec, metrics, 404/405) goes on to Express.
  const listener = (req: IncomingMessage, res: ServerResponse) => router.middleware(req, res, () => app(req, res));
  const deleteExpiredUploads = async () =>
    (await Promise.all(parts.uploads.map((u) => u.handler.deleteExpired()))).reduce((a, b) => a + b, 0);
  return Object.assign(listener, { metrics, express: app, deleteExpiredUploads });
}

/** Errors raised by Express or its middleware carry an HTTP status; keep the client-side ones. */
function fromExpressError(error: unknown): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  // A path parameter that is not valid percent-encoding matches nothing, as on the contract routes.
  if (status === 400 && error instanceof URIError) return new ApiError('NOT_FOUND', 'The path is not valid URL encoding');
  const codes: Record<number, string> = {
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
  };
  return typeof status === 'number' && codes[status] ? new ApiError(codes[status]) : error;
}
