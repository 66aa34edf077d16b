import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';
import { elapsedMs, startRequest } from './request-state';

/**
 * First middleware of every request: request id (`X-Request-Id`), `Server-Timing`, one access-log
 * line and one histogram observation when the response is done.
 */
export function requestContext(options: { log: Logger; metrics: Metrics }) {
  const { log, metrics } = options;
  return function requestContextMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const state = startRequest(req);
    res.setHeader('X-Request-Id', state.id);
    const writeHead = res.writeHead;
    res.writeHead = function timedWriteHead(this: ServerResponse, ...args: Parameters<typeof writeHead>) {
      if (!this.headersSent) this.setHeader('Server-Timing', `app;dur=${elapsedMs(state).toFixed(2)}`);
      return writeHead.apply(this, args);
    } as typeof writeHead;
    res.once('close', () => {
      const durationMs = elapsedMs(state);
      const route = state.route ?? 'unmatched';
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.observe(req.method!, route, status, durationMs / 1000);
      log.info(
        { reqId: state.id, method: req.method, route, path: state.route ? undefined : originalPath(req), status, durationMs: Math.round(durationMs * 100) / 100 },
        'request',
      );
    });
    next();
  };
}

/** Express rewrites `req.url` inside mounted apps; the log wants the path the client asked for. */
function originalPath(req: IncomingMessage): string {
  return ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '/').split('?', 1)[0]!;
}
