import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, type Metric, Registry } from 'prom-client';

/** A Prometheus registry per app, so several apps in one process (tests) do not collide. */
export interface Metrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
  /** A problem answered (`http_problems_total{route,code}`): refused sign-ins are `INVALID_CREDENTIALS` on the login route. */
  problem(route: string, code: string): void;
  /** A request or socket event a rate limit refused (`rate_limit_refusals_total{operation,limit}`). */
  rateLimited(operation: string, limit: string): void;
  /** A socket event answered (`realtime_events_total{event,outcome}`): `ok` or the refusal's code. */
  socketEvent(event: string, outcome: string): void;
}

export function createMetrics(options: { processMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const duration = new RequestDurations();
  registry.registerMetric(duration as unknown as Metric);
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const problems = counter('http_problems_total', 'Problems answered, by route and problem code', ['route', 'code']);
  const refusals = counter('rate_limit_refusals_total', 'Requests and socket events a rate limit refused', ['operation', 'limit']);
  const events = counter('realtime_events_total', 'Socket events answered, by event and outcome (ok, or the code)', ['event', 'outcome']);
  return {
    registry,
    observe: (method, route, status, seconds) => duration.observe(method, route, status, seconds),
    problem: (route, code) => problems.inc({ route, code }),
    rateLimited: (operation, limit) => refusals.inc({ operation, limit }),
    socketEvent: (event, outcome) => events.inc({ event, outcome }),
  };
}

/**
 * A gauge read when scraped (`read` answers one value, or one per label set), registered once per
 * registry: two apps sharing one keep the first.
 */
export function gauge(
  metrics: Metrics,
  name: string,
  help: string,
  read: () => number | { labels: Record<string, string>; value: number }[],
): void {
  if (metrics.registry.getSingleMetric(name)) return;
  const labelNames = (() => {
    const sample = read();
    return typeof sample === 'number' ? [] : [...new Set(sample.flatMap((entry) => Object.keys(entry.labels)))];
  })();
  new Gauge({
    name,
    help,
    labelNames,
    registers: [metrics.registry],
    collect() {
      const value = read();
      if (typeof value === 'number') this.set(value);
      else for (const entry of value) this.set(entry.labels, entry.value);
    },
  });
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  labels: { method: string; route: string; status: string };
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * The request-duration histogram, as prom-client's Histogram exposes it (same name, help, labels,
 * buckets and lines), counted with one map lookup per request: prom-client's own hashes the label
 * object on every observation, bound child or not. Registered in a prom-client registry, which
 * formats it with the process metrics.
 */
class RequestDurations {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'Time from the first byte of the request to the last byte of the response';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = { labels: { method, route, status: String(status) }, counts: new Array(BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += seconds;
    series.count++;
  }

  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      counts.forEach((observed, i) => {
        cumulative += observed;
        values.push({
          labels: { le: i < BUCKETS.length ? BUCKETS[i]! : '+Inf', ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
  }
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
