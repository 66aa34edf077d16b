import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CorsPolicy } from './cors';
import type { Metrics } from './metrics';
import { createAccessLog } from './access-log';
import { elapsedMs, requestPath, requestState } from './request-state';
import { endRequestSpan, traceIdOf } from './tracing';

/**
 * What every response carries and what every request leaves behind: the security and CORS
 * headers, `X-Request-Id`, `Server-Timing`, one access-log line and one histogram observation
 * (and the end of the request's span, when tracing is on).
 * Contract routes get all of it from `send` in one `writeHead`; Express's own routes (docs,
 * spec, metrics, 404) get it from `expressContext`. Either way it is the same code.
 */
export interface ResponseContext {
  /** Writes a whole response: status, the standard headers plus `headers`, and the body. */
  send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body?: string,
    contentType?: string,
    headers?: Record<string, string>,
  ): void;
  /** Express middleware giving Express-served requests the same headers, timing and log line. */
  expressContext(req: IncomingMessage, res: ServerResponse, next: () => void): void;
  /**
   * For a response written in parts (a file streamed): sets the standard headers plus `headers`
   * on `res`, and logs the request when the response closes.
   */
  begin(req: IncomingMessage, res: ServerResponse, headers?: Record<string, string>): void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function createResponseContext(options: { log: Logger; metrics: Metrics; security: string[]; cors: CorsPolicy }): ResponseContext {
  const { metrics, security, cors } = options;
  const accessLog = createAccessLog(options.log);

  function record(req: IncomingMessage, status: number): void {
    const state = requestState(req);
    const durationMs = elapsedMs(state);
    const { route, span } = state;
    metrics.observe(req.method!, route ?? 'unmatched', status, durationMs / 1000);
    accessLog({
      reqId: state.id,
      traceId: traceIdOf(span),
      method: req.method!,
      route,
      path: route ? undefined : requestPath(req),
      status,
      durationMs,
      problem: state.problem,
    });
    if (span) endRequestSpan(span, status, state.problem);
  }

  return {
    send(req, res, status, body, contentType = JSON_TYPE, headers) {
      const state = requestState(req);
      const raw = security.concat(cors.headersFor(req.headers.origin));
      raw.push('X-Request-Id', state.id, 'Server-Timing', `app;dur=${elapsedMs(state).toFixed(2)}`);
      if (body !== undefined) raw.push('Content-Type', contentType, 'Content-Length', String(Buffer.byteLength(body)));
      if (headers) for (const name in headers) raw.push(name, headers[name]!);
      res.writeHead(status, raw);
      res.end(body);
      if (!state.viaExpress) record(req, status);
    },

    expressContext(req, res, next) {
      begin(req, res);
      if (!cors.preflight(req, res)) next();
    },

    begin,
  };

  function begin(req: IncomingMessage, res: ServerResponse, headers?: Record<string, string>): void {
    const state = requestState(req);
    state.viaExpress = true;
    const raw = security.concat(cors.headersFor(req.headers.origin));
    for (let i = 0; i < raw.length; i += 2) res.setHeader(raw[i]!, raw[i + 1]!);
    res.setHeader('X-Request-Id', state.id);
    if (headers) for (const name in headers) res.setHeader(name, headers[name]!);
    const writeHead = res.writeHead;
    res.writeHead = function timedWriteHead(this: ServerResponse, ...args: Parameters<typeof writeHead>) {
      if (!this.headersSent) this.setHeader('Server-Timing', `app;dur=${elapsedMs(state).toFixed(2)}`);
      return writeHead.apply(this, args);
    } as typeof writeHead;
    res.once('close', () => record(req, res.writableFinished ? res.statusCode : 499));
  }
}
