import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics, gauge } from '../../runtime/server';
import { createFixture } from '../runtime/server/fixture';

/** docs/grafana-dashboard.json: every series it queries is one the API exposes at /metrics. */
const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** Metric names in a PromQL expression: identifiers that are not functions (followed by `(`), label lists, matchers or numbers. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)].map((match) => match[1]!);
}

describe('the Grafana dashboard', () => {
  it('queries only series the API exposes (histograms by their _bucket and _count)', async () => {
    const metrics = createMetrics({ processMetrics: true });
    // Every family registered, as a running instance has them: the runtime's, the sockets', the pool's.
    createFixture({ metrics });
    gauge(metrics, 'realtime_sockets', 'x', () => 0);
    gauge(metrics, 'db_pool_connections', 'x', () => [{ labels: { state: 'open' }, value: 0 }]);
    const exposed = new Set(
      (await metrics.registry.getMetricsAsJSON()).flatMap((metric) =>
        String(metric.type) === 'histogram' ? [`${metric.name}_bucket`, `${metric.name}_count`, `${metric.name}_sum`] : [metric.name],
      ),
    );
    const queried = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricNames(target.expr)));
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.filter((name) => !exposed.has(name))).toEqual([]);
  });
});
