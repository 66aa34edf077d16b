import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, type ClientOptions, type OperationDescriptor } from '../../../runtime/client/index';
import { failure, sendJson, sendProblem, startServer, type TestServer } from './server';

const listEvents: OperationDescriptor = {
  operationId: 'listEvents',
  method: 'GET',
  path: '/api/v1/events',
  auth: false,
  paged: false,
};
const createPost: OperationDescriptor = {
  operationId: 'createPost',
  method: 'POST',
  path: '/api/v1/posts',
  auth: false,
  paged: false,
};

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Fails the first `failures` hits with `status`, then answers 200. */
function failThenSucceed(failures: number, status: number, headers: Record<string, string> = {}) {
  server.handle((_req, res, hit) => {
    if (hit <= failures) sendProblem(res, status, `HTTP_${status}`, {}, headers);
    else sendJson(res, 200, { data: { hit } });
  });
}

/** A transport whose backoff waits are recorded instead of slept. */
function recordingTransport(options: Omit<ClientOptions, 'baseUrl'> = {}, random = () => 0.5) {
  const delays: number[] = [];
  const transport = createTransport(
    { baseUrl: server.baseUrl, ...options },
    {
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
      random,
    },
  );
  return { transport, delays };
}

describe('retries', () => {
  it('retries a GET on 503 and succeeds', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: { baseDelayMs: 1 } });
    failThenSucceed(2, 503);

    await expect(transport.request(listEvents)).resolves.toEqual({ hit: 3 });
    expect(server.requests).toHaveLength(3);
  });

  it.each([429, 502, 504])('retries a GET on %i', async (status) => {
    const { transport } = recordingTransport();
    failThenSucceed(1, status);

    await expect(transport.request(listEvents)).resolves.toEqual({ hit: 2 });
  });

  it('does not retry other errors', async () => {
    const { transport } = recordingTransport();
    failThenSucceed(1, 500);

    expect((await failure(transport.request(listEvents))).status).toBe(500);
    expect(server.requests).toHaveLength(1);
  });

  it('retries PUT and DELETE', async () => {
    const { transport } = recordingTransport();
    failThenSucceed(1, 503);
    await expect(transport.request({ ...listEvents, method: 'PUT' }, { body: {} })).resolves.toEqual({ hit: 2 });
    failThenSucceed(1, 503);
    await expect(transport.request({ ...listEvents, method: 'DELETE' })).resolves.toEqual({ hit: 2 });
  });

  it('does not retry a POST on 503', async () => {
    const { transport } = recordingTransport();
    failThenSucceed(1, 503);

    const error = await failure(transport.request(createPost, { body: { title: 't' } }));

    expect(error.status).toBe(503);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a POST that carries an idempotency key, sending the same key each time', async () => {
    const { transport } = recordingTransport();
    failThenSucceed(1, 503);

    await expect(transport.request(createPost, { body: { title: 't' }, idempotencyKey: 'key-1' })).resolves.toEqual({ hit: 2 });
    expect(server.requests.map((r) => r.headers['idempotency-key'])).toEqual(['key-1', 'key-1']);
    expect(server.requests.map((r) => r.body)).toEqual(['{"title":"t"}', '{"title":"t"}']);
  });

  it('does not retry at all with retry: false', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: false });
    failThenSucceed(1, 503);

    expect((await failure(transport.request(listEvents))).status).toBe(503);
    expect(server.requests).toHaveLength(1);
  });

  it('throws the last error once retries are exhausted', async () => {
    const { transport } = recordingTransport({ retry: { retries: 2 } });
    const statuses = [503, 503, 502];
    server.handle((_req, res, hit) => sendProblem(res, statuses[hit - 1] ?? 500, `UPSTREAM_${hit}`));

    const error = await failure(transport.request(listEvents));

    expect(error.status).toBe(502);
    expect(error.code).toBe('UPSTREAM_3');
    expect(server.requests).toHaveLength(3);
  });

  it('retries a GET after a dropped connection', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: { baseDelayMs: 1 } });
    server.handle((_req, res, hit) => {
      if (hit === 1) res.socket?.destroy();
      else sendJson(res, 200, { data: 'ok' });
    });

    await expect(transport.request(listEvents)).resolves.toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a POST after a dropped connection', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: { baseDelayMs: 1 } });
    server.handle((_req, res) => res.socket?.destroy());

    const error = await failure(transport.request(createPost, { body: {} }));

    expect(error.code).toBe('NETWORK_ERROR');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a GET whose attempt timed out', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, timeoutMs: 50, retry: { baseDelayMs: 1 } });
    server.handle((_req, res, hit) => {
      if (hit > 1) sendJson(res, 200, { data: 'late but fine' });
    });

    await expect(transport.request(listEvents)).resolves.toBe('late but fine');
    expect(server.requests).toHaveLength(2);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', async () => {
    const { transport, delays } = recordingTransport({ retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 300 } }, () => 0.5);
    failThenSucceed(3, 503);

    await transport.request(listEvents);

    // random 0.5 of min(300, 100 * 2^attempt)
    expect(delays).toEqual([50, 100, 150]);
  });

  it('waits the Retry-After delta-seconds instead of the backoff', async () => {
    const { transport, delays } = recordingTransport();
    failThenSucceed(1, 429, { 'retry-after': '3' });

    await expect(transport.request(listEvents)).resolves.toEqual({ hit: 2 });
    expect(delays).toEqual([3000]);
  });

  it('waits until a Retry-After HTTP-date', async () => {
    const { transport, delays } = recordingTransport();
    failThenSucceed(1, 503, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });

    await transport.request(listEvents);

    // HTTP-dates have whole seconds, so the wait is up to a second shorter than 30 s.
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThan(28_000);
    expect(delays[0]).toBeLessThanOrEqual(30_000);
  });

  it('retries at once on Retry-After: 0 even with a long backoff configured', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    failThenSucceed(1, 503, { 'retry-after': '0' });

    await expect(transport.request(listEvents)).resolves.toEqual({ hit: 2 });
  });

  it('fails without waiting when Retry-After exceeds maxRetryAfterMs', async () => {
    const { transport, delays } = recordingTransport({ retry: { maxRetryAfterMs: 10_000 } });
    failThenSucceed(1, 429, { 'retry-after': '11' });

    const error = await failure(transport.request(listEvents));

    expect(error.status).toBe(429);
    expect(delays).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('stops waiting and rejects with ABORTED when the caller aborts during a backoff', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    failThenSucceed(1, 503, { 'retry-after': '30' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    const started = Date.now();
    const error = await failure(transport.request(listEvents, { signal: controller.signal }));

    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
  });
});
