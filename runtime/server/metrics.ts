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
