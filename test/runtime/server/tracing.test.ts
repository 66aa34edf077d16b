import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFixture } from './fixture';

/**
 * Spans of contract requests, through the OpenTelemetry API the runtime uses: recorded while a
 * provider is registered (here one exporting to memory), nothing at all while none is.
 */
function register() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return { exporter, provider };
}

/** Back to no provider at all, as every other test file of this worker expects. */
function unregister() {
  trace.disable();
  context.disable();
  propagation.disable();
}

afterEach(unregister);
afterAll(unregister);

const fixture = createFixture();

describe('request spans', () => {
  it('names the route and says the method, status, path, request id and who asked, as a hash', async () => {
    const { exporter } = register();
    const token = await fixture.token('user-42');
    const res = await request(fixture.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`).set('Host', 'api.example.test:8443');
    expect(res.status).toBe(200);
    const again = await request(fixture.app)
      .get('/api/v1/me')
      .set('Authorization', `Bearer ${await fixture.token('user-42')}`);
    const other = await request(fixture.app)
      .get('/api/v1/me')
      .set('Authorization', `Bearer ${await fixture.token('user-7')}`)
      .set('Host', '[::1]:3000');
    const [span, second, third] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: 'GET /api/v1/me', kind: SpanKind.SERVER, status: { code: SpanStatusCode.UNSET } });
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/v1/me',
      'http.response.status_code': 200,
      'url.path': '/api/v1/me',
      'url.scheme': 'http',
      'server.address': 'api.example.test',
      'server.port': 8443,
      'request.id': res.headers['x-request-id'],
    });
    const hash = span!.attributes['user.hash'] as string;
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(span!.attributes)).not.toContain('user-42');
    // One user, one hash; another user, another.
    expect(second!.attributes['user.hash']).toBe(hash);
    expect(third!.attributes['user.hash']).not.toBe(hash);
    expect(third!.attributes).toMatchObject({ 'server.address': '::1', 'server.port': 3000 });
    expect([again.status, other.status]).toEqual([200, 200]);
  });

  it('gives a refused request its problem code, and marks a 5xx as an error', async () => {
    const { exporter } = register();
    await request(fixture.app).post('/api/v1/items').send({});
    await request(fixture.app).get('/api/v1/boom');
    const [refused, failed] = exporter.getFinishedSpans();
    expect(refused!.attributes).toMatchObject({ 'http.response.status_code': 400, 'problem.code': 'VALIDATION_FAILED' });
    expect(refused!.status.code).toBe(SpanStatusCode.UNSET);
    expect(failed!.attributes).toMatchObject({ 'http.response.status_code': 500, 'problem.code': 'INTERNAL', 'error.type': '500' });
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('continues the trace an incoming traceparent names', async () => {
    const { exporter } = register();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(fixture.app).get('/api/v1/ping').set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
    const [span] = exporter.getFinishedSpans();
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it("writes the span's trace id in the access log line", async () => {
    const { exporter } = register();
    const res = await request(fixture.app).get('/api/v1/items/7');
    const line = await fixture.accessLine(res.headers['x-request-id'] as string);
    const [span] = exporter.getFinishedSpans();
    expect(line.traceId).toBe(span!.spanContext().traceId);
  });

  it('records nothing with no provider registered, and the log line has no traceId', async () => {
    const { exporter } = register();
    unregister();
    const res = await request(fixture.app)
      .get('/api/v1/items/7')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const line = await fixture.accessLine(res.headers['x-request-id'] as string);
    expect(line).not.toHaveProperty('traceId');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('follows the provider registered now, not one registered before', async () => {
    const first = register();
    await request(fixture.app).get('/api/v1/ping');
    unregister();
    const second = register();
    await request(fixture.app).get('/api/v1/ping');
    expect(first.exporter.getFinishedSpans()).toHaveLength(1);
    expect(second.exporter.getFinishedSpans()).toHaveLength(1);
  });
});
