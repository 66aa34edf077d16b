import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { RequestState } from './request-state';

/**
 * OpenTelemetry spans of the runtime, through `@opentelemetry/api` only: the application registers
 * a tracer provider (an SDK with an exporter) or none. With none, the runtime starts no span, makes
 * no context and calls nothing else of the API: a request pays for one look-up of the provider.
 */

const TRACER_NAME = '@contract-kit/runtime';

let seenProvider: unknown;
let seenTracer: Tracer | undefined;

/**
 * The tracer of the provider registered now, or undefined when none is (tracing off). The provider
 * is looked up on every call, so one registered later, or unregistered (`trace.disable()`), applies
 * from the next request; its tracer is kept while that provider stays registered.
 */
export function activeTracer(): Tracer | undefined {
  // The API hands out a proxy whose delegate is the registered provider (none: a no-op one).
  const global = trace.getTracerProvider() as TracerProvider & {
    getDelegate?: () => TracerProvider;
    getDelegateTracer?: (name: string) => Tracer | undefined;
  };
  const provider = global.getDelegate ? global.getDelegate() : global;
  if (provider !== seenProvider) {
    seenProvider = provider;
    seenTracer = global.getDelegateTracer ? global.getDelegateTracer(TRACER_NAME) : global.getTracer(TRACER_NAME);
  }
  return seenTracer;
}

/** A span's trace id, when it has a valid one (the access log's `traceId`). */
export function traceIdOf(span: Span | undefined): string | undefined {
  if (span === undefined) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** One key per process when none is given: hashes then agree between HTTP and sockets, not between instances. */
const processKey = randomBytes(32);
const MEMO_LIMIT = 10_000;

/**
 * The authenticated user as span attributes see it (`user.hash`): HMAC-SHA-256 of the user id under
 * a secret key, the first 128 bits in hex. Not a bare SHA-256: user ids are public (they are in
 * URLs and answers), so anyone could hash the known ids and read a bare hash back; under a key only
 * who holds it can. Give every instance the same key for a user's hash to be the same everywhere.
 */
export function userHasher(key: Uint8Array = processKey): (userId: string) => string {
  // Users come back request after request: an HMAC is a microsecond, a look-up much less.
  const memo = new Map<string, string>();
  return (userId) => {
    let hash = memo.get(userId);
    if (hash === undefined) {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      hash = createHmac('sha256', key).update(userId).digest('hex').slice(0, 32);
      memo.set(userId, hash);
    }
    return hash;
  };
}

/**
 * Starts the span of a contract request (`GET /api/v1/events/{eventId}`), keeps it in the request's
 * state (the access log and the response end it) and returns the context its handler runs in. Its
 * parent is the span active already (an HTTP instrumentation of an app mounting the routes), else
 * the caller's, as the request's `traceparent` names it.
 */
export function startRequestSpan(
  tracer: Tracer,
  req: IncomingMessage,
  state: RequestState,
  route: string,
  path: string,
  clientAddress: string,
): Context {
  const active = context.active();
  const nested = trace.getSpan(active) !== undefined;
  const parent = nested ? active : propagation.extract(active, req.headers);
  const method = req.method!;
  const span = tracer.startSpan(
    `${method} ${route}`,
    {
      kind: nested ? SpanKind.INTERNAL : SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'http.route': route,
        'url.path': path,
        'url.scheme': (req.socket as TLSSocket).encrypted ? 'https' : 'http',
        'client.address': clientAddress,
        'network.peer.address': req.socket.remoteAddress,
        'user_agent.original': req.headers['user-agent'],
        // The problem body's `requestId` and the access log's `reqId`: a problem reported leads here.
        'request.id': state.id,
        ...hostAttributes(req.headers.host),
      },
    },
    parent,
  );
  state.span = span;
  return trace.setSpan(parent, span);
}

/** Ends a request's span with its status; a 5xx is an error, a problem's code an attribute. */
export function endRequestSpan(span: Span, status: number, problem: string | undefined): void {
  span.setAttribute('http.response.status_code', status);
  if (problem !== undefined) span.setAttribute('problem.code', problem);
  if (status >= 500) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The span of one real-time event a client sent, a trace of its own (a socket lives across many). */
export function startEventSpan(tracer: Tracer, event: string, userHash: string, address: string): Span {
  return tracer.startSpan(
    `socket ${event}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'messaging.system': 'socket.io',
        'messaging.operation.type': 'process',
        'messaging.destination.name': event,
        'user.hash': userHash,
        'client.address': address,
      },
    },
    ROOT_CONTEXT,
  );
}

/** Ends an event's span with its outcome: `ok`, or the code it was refused with (INTERNAL an error). */
export function endEventSpan(span: Span, outcome: string): void {
  span.setAttribute('realtime.outcome', outcome);
  if (outcome === 'INTERNAL') {
    span.setAttribute('error.type', outcome);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** `server.address` and `server.port` from the Host header (`example.com:8080`, `[::1]:3000`: `::1` and 3000). */
function hostAttributes(host: string | undefined): { 'server.address'?: string; 'server.port'?: number } {
  if (!host) return {};
  const colon = host.lastIndexOf(':');
  const bare = (name: string) => (name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name);
  if (colon < 0 || host.endsWith(']')) return { 'server.address': bare(host) };
  const port = Number(host.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port < 65536
    ? { 'server.address': bare(host.slice(0, colon)), 'server.port': port }
    : { 'server.address': bare(host) };
}
