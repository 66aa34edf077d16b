import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** A Prometheus registry per app, so several apps in one process (tests) do not collide. */
export interface Metrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(options: { processMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the first byte of the request to the last byte of the response',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // One bound child per label set: prom-client would otherwise hash the labels on every observation.
  const children = new Map<string, { observe(value: number): void }>();
  return {
    registry,
    observe(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let child = children.get(key);
      if (!child) {
        child = duration.labels({ method, route, status });
        children.set(key, child);
      }
      child.observe(seconds);
    },
  };
}

/** Who may read `/metrics`: nobody, holders of a bearer token, or anyone. */
export type MetricsAccess = 'off' | 'public' | { token: string };

/**
 * Whether an `Authorization` header carries exactly this bearer token. Both sides are hashed
 * first, so the comparison takes the same time whatever the header holds (length included).
 */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

/**
 * A listener for a port of its own (`METRICS_PORT`): `GET /metrics` and nothing else, behind the
 * bearer token when one is given.
 */
export function metricsListener(metrics: Metrics, options: { token?: string } = {}) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers }).end(body);
    };
    if (path !== '/metrics') return send(404, 'Not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
    if (options.token !== undefined && !bearerTokenMatches(req.headers.authorization, options.token)) {
      return send(401, 'Unauthorized\n', { 'WWW-Authenticate': 'Bearer realm="metrics"' });
    }
    metrics.registry.metrics().then(
      (text) => send(200, req.method === 'HEAD' ? '' : text, { 'Content-Type': metrics.registry.contentType }),
      () => send(500, 'Metrics could not be collected\n'),
    );
  };
}
