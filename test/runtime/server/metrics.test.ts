import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../runtime/server/metrics';

describe('the request-duration histogram', () => {
  it('exposes what prom-client’s Histogram exposes for the same observations, line for line', async () => {
    const ours = createMetrics({ processMetrics: false });
    const registry = new Registry();
    const reference = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the first byte of the request to the last byte of the response',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const observations = [
      ['GET', '/api/v1/a', 200, 0.0004],
      ['GET', '/api/v1/a', 200, 0.001],
      ['GET', '/api/v1/a', 200, 0.0011],
      ['POST', '/odd "route"\\', 201, 7],
      ['GET', '/api/v1/a', 404, 0.3],
    ] as const;
    for (const [method, route, status, seconds] of observations) {
      ours.observe(method, route, status, seconds);
      reference.observe({ method, route, status }, seconds);
    }
    // The histogram's lines, apart from the other families the registry holds.
    const text = `${await ours.registry.getSingleMetricAsString('http_request_duration_seconds')}\n`;
    expect(text).toBe(await registry.metrics());
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/v1/a",status="200"} 2');
    ours.registry.resetMetrics();
    expect(await ours.registry.metrics()).not.toContain('_count{');
  });
});
