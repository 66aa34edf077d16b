import { createHmac, hkdfSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema, otlpTracesUrl } from '../../server/config';
import type { Database } from '../../server/db/database';
import { startTracing, type Tracing } from '../../server/tracing';
import { TEST_SECRET } from '../support/app';
import { openServerDatabase } from '../support/database';
import { connected, startRealtimeServer, storedUser } from '../support/realtime';

/**
 * Traces of the whole app, as `npm start` registers them (server/tracing.ts): a span per request
 * with the database queries it made as its children, a span per socket event, the trace id in
 * the access log; sent by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
let database: Database;
let server: Awaited<ReturnType<typeof startRealtimeServer>>;

beforeAll(async () => {
  database = await openServerDatabase();
  server = await startRealtimeServer(database);
});
afterAll(async () => {
  await server?.stop();
  await database?.close();
});

const children = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

/** The access-log line of a request (written when its response is done). */
async function accessLine(requestId: string) {
  for (let tries = 0; tries < 200; tries++) {
    const line = server.logLines.find((l) => l.msg === 'request' && l.reqId === requestId);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no access-log line for ${requestId}`);
}

describe('with tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  beforeAll(() => {
    tracing = startTracing({ serviceName: 'mundo-tango-test', exporter });
  });
  afterAll(() => tracing.shutdown());

  it("makes a request's queries children of its span, with their statements but not their values", async () => {
    const ana = await storedUser(server);
    const secretWords = `tango-${randomUUID()}`;
    const post = await ana.api.posts.createPost({ body: { body: secretWords, visibility: 'public' } });
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const request = spans.find((span) => span.name === 'POST /api/v1/posts')!;
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.attributes).toMatchObject({ 'http.route': '/api/v1/posts', 'http.response.status_code': 201 });
    // As the README tells an operator to work it out from JWT_SECRET and a user id.
    const key = new Uint8Array(hkdfSync('sha256', TEST_SECRET, new Uint8Array(0), 'mundo-tango trace user hash', 32));
    expect(request.attributes['user.hash']).toBe(createHmac('sha256', key).update(ana.id).digest('hex').slice(0, 32));
    const queries = children(spans, request);
    expect(queries.map((q) => q.name)).toContain('INSERT');
    for (const query of queries) {
      expect(query.kind).toBe(SpanKind.CLIENT);
      expect(query.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(query.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.operation.name': query.name });
    }
    expect(queries.find((q) => q.name === 'INSERT')!.attributes['db.query.text']).toMatch(/^insert into "posts"/);
    // Neither the post's text nor the ids it was stored with are in any span.
    const everything = JSON.stringify(spans.map((span) => span.attributes));
    expect(everything).not.toContain(secretWords);
    expect(everything).not.toContain(post.id);
    expect(everything).not.toContain(ana.id);
  });

  it("writes the request span's trace id in the access log line, and continues an incoming trace", async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const res = await fetch(`${server.url}/api/v1/health`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const requestId = res.headers.get('x-request-id')!;
    const line = await accessLine(requestId);
    await tracing.flush();
    const span = exporter.getFinishedSpans().find((s) => s.attributes['request.id'] === requestId)!;
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(line.traceId).toBe(traceId);
  });

  it('records a request whose traceparent says "not sampled": a caller cannot hide its requests', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const res = await fetch(`${server.url}/api/v1/health`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-00` } });
    const requestId = res.headers.get('x-request-id')!;
    await tracing.flush();
    const span = exporter.getFinishedSpans().find((s) => s.attributes['request.id'] === requestId);
    expect(span?.spanContext().traceId).toBe(traceId);
  });

  it('gives what Express serves a span under its route too: the spec, the docs, an upload (with the user hash)', async () => {
    const ana = await storedUser(server);
    const spec = await fetch(`${server.url}/openapi.json`);
    const docs = await fetch(`${server.url}/docs/`);
    const upload = await fetch(`${server.url}/api/v1/uploads`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${ana.token}`,
        'Tus-Resumable': '1.0.0',
        'Upload-Length': '1000',
        'Upload-Metadata': `filetype ${Buffer.from('image/jpeg').toString('base64')}`,
      },
    });
    expect([spec.status, docs.status, upload.status]).toEqual([200, 200, 201]);
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const spanOf = (res: Response) => spans.find((span) => span.attributes['request.id'] === res.headers.get('x-request-id'));
    expect(spanOf(spec)).toMatchObject({
      name: 'GET /openapi.json',
      kind: SpanKind.SERVER,
      attributes: { 'http.route': '/openapi.json', 'http.response.status_code': 200 },
    });
    expect(spanOf(docs)).toMatchObject({ name: 'GET /docs', attributes: { 'url.path': '/docs/' } });
    expect(spanOf(upload)).toMatchObject({
      name: 'POST /api/v1/uploads',
      attributes: { 'http.response.status_code': 201, 'user.hash': expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
  });

  it('gives each socket event a span: its outcome, the same user hash as over HTTP, its queries as children', async () => {
    const ana = await storedUser(server);
    const ben = await storedUser(server);
    const conversation = await ana.api.messages.createConversation({ body: { kind: 'direct', memberIds: [ben.id] } });
    const device = ana.device();
    await connected(device);
    await device.emit('message:send', { conversationId: conversation.id, clientKey: randomUUID(), body: 'Por el socket' });
    await expect(device.emit('room:join', { room: `user:${ben.id}` })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    device.close();
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const sent = spans.find((span) => span.name === 'socket message:send')!;
    expect(sent.attributes).toMatchObject({ 'messaging.destination.name': 'message:send', 'realtime.outcome': 'ok' });
    expect(sent.status.code).toBe(SpanStatusCode.UNSET);
    expect(children(spans, sent).map((q) => q.name)).toContain('INSERT');
    const http = spans.find((span) => span.name === 'POST /api/v1/conversations')!;
    expect(sent.attributes['user.hash']).toBe(http.attributes['user.hash']);
    const refused = spans.find((span) => span.name === 'socket room:join')!;
    expect(refused.attributes['realtime.outcome']).toBe('FORBIDDEN');
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let collector: Server;
  const received: { path: string; body: string }[] = [];
  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ path: `${req.method} ${req.url}`, body });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise((resolve) => collector.close(resolve)));

  it('sends the spans to the collector by OTLP/HTTP, under the service name', async () => {
    const config = ConfigSchema.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/` });
    const tracing = startTracing({ url: otlpTracesUrl(config)!, serviceName: config.OTEL_SERVICE_NAME });
    try {
      const res = await fetch(`${server.url}/api/v1/health`);
      expect(res.status).toBe(200);
    } finally {
      await tracing.shutdown();
    }
    expect(received.map((r) => r.path)).toEqual(['POST /v1/traces']);
    const sent = JSON.parse(received[0]!.body) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: { name: string }[] }[];
      }[];
    };
    const [resource] = sent.resourceSpans;
    expect(resource!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'mundo-tango-api' } });
    expect(resource!.scopeSpans.flatMap((scope) => scope.spans.map((span) => span.name))).toContain('GET /api/v1/health');
  });
});

describe('where the traces go', () => {
  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, before `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`; neither: off', () => {
    const url = (env: Record<string, string>) => otlpTracesUrl(ConfigSchema.parse(env));
    expect(url({})).toBeUndefined();
    expect(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318/v1/traces');
    expect(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' })).toBe('http://collector:4318/otlp/v1/traces');
    expect(
      url({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.org/ingest?tenant=mt',
      }),
    ).toBe('https://traces.example.org/ingest?tenant=mt');
    expect(ConfigSchema.safeParse({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }).success).toBe(false);
  });
});

describe('with tracing off', () => {
  it('has no trace id in the access log line, whatever traceparent came', async () => {
    const res = await fetch(`${server.url}/api/v1/health`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    const line = await accessLine(res.headers.get('x-request-id')!);
    expect(line.status).toBe(200);
    expect(line).not.toHaveProperty('traceId');
  });
});
