import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for an API authenticated by bearer tokens (no cookies, so no credentials mode): the
 * allowed origins come from config. One piece of code answers preflights and decorates every
 * response, on the hot path and on Express's routes alike.
 */
export interface CorsPolicy {
  /** Headers (flat name/value list) for a response to a request from `origin`. */
  headersFor(origin: string | undefined): string[];
  /** Answers a preflight (OPTIONS with Access-Control-Request-Method); false when it is not one. */
  preflight(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createCors(options: { origins: string[]; exposedHeaders: string[]; maxAgeSeconds: number }): CorsPolicy {
  const any = options.origins.includes('*');
  const allowed = new Set(options.origins);
  const expose = options.exposedHeaders.join(', ');
  const noOrigin = ['Vary', 'Origin'];
  const allowedFor = (origin: string | undefined) => origin !== undefined && (any || allowed.has(origin));

  return {
    headersFor(origin) {
      if (!allowedFor(origin)) return noOrigin;
      return ['Vary', 'Origin', 'Access-Control-Allow-Origin', any ? '*' : origin!, 'Access-Control-Expose-Headers', expose];
    },
    preflight(req, res) {
      if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
      const origin = req.headers.origin;
      res.setHeader('Vary', 'Origin, Access-Control-Request-Headers');
      if (allowedFor(origin)) {
        res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin!);
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE');
        const requested = req.headers['access-control-request-headers'];
        if (requested) res.setHeader('Access-Control-Allow-Headers', requested);
        res.setHeader('Access-Control-Max-Age', String(options.maxAgeSeconds));
      }
      res.setHeader('Content-Length', '0');
      res.writeHead(204);
      res.end();
      return true;
    },
  };
}
