import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, type OperationDescriptor } from '../../../runtime/client/index';
import { closedPort, failure, sendJson, sendProblem, startServer, type TestServer } from './server';

const getEvent: OperationDescriptor = {
  operationId: 'getEvent',
  method: 'GET',
  path: '/api/v1/events/{eventId}',
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
const input = { params: { eventId: 'e1' } };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('errors', () => {
  it('turns a problem+json response into an ApiClientError with its status, code, requestId and errors', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    const fieldErrors = [{ path: '/body/title', code: 'too_small', message: 'Title is required' }];
    server.handle((_req, res) =>
      sendProblem(
        res,
        400,
        'VALIDATION_FAILED',
        { detail: '1 field is invalid', requestId: 'req-body', errors: fieldErrors },
        {
          'x-request-id': 'req-header',
        },
      ),
    );

    const error = await failure(transport.request(createPost, { body: {} }));

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ApiClientError');
    expect(error.status).toBe(400);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.requestId).toBe('req-body');
    expect(error.operationId).toBe('createPost');
    expect(error.problem?.errors).toEqual(fieldErrors);
    expect(error.problem?.detail).toBe('1 field is invalid');
    expect(error.message).toContain('createPost');
    expect(error.message).toContain('VALIDATION_FAILED');
  });

  it('takes the request id from X-Request-Id when the problem has none, and reads plain application/json problems', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) =>
      sendJson(res, 404, { type: 'about:blank', title: 'Not found', status: 404, code: 'EVENT_NOT_FOUND' }, { 'x-request-id': 'req-7' }),
    );

    const error = await failure(transport.request(getEvent, input));

    expect(error.status).toBe(404);
    expect(error.code).toBe('EVENT_NOT_FOUND');
    expect(error.requestId).toBe('req-7');
    expect(error.problem?.title).toBe('Not found');
  });

  it('synthesizes an HTTP_<status> problem for a non-JSON error body', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: false });
    server.handle((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html', 'x-request-id': 'req-proxy' });
      res.end('<html><body>Bad Gateway</body></html>');
    });

    const error = await failure(transport.request(getEvent, input));

    expect(error.status).toBe(502);
    expect(error.code).toBe('HTTP_502');
    expect(error.requestId).toBe('req-proxy');
    expect(error.problem).toMatchObject({ status: 502, code: 'HTTP_502', title: 'Bad Gateway', requestId: 'req-proxy' });
  });

  it('synthesizes an HTTP_<status> problem when a JSON error body is malformed or has no code', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res, hit) => {
      res.writeHead(hit === 1 ? 500 : 418, { 'content-type': 'application/problem+json' });
      res.end(hit === 1 ? '{"code": "INTER' : '{"message":"teapot"}');
    });

    expect((await failure(transport.request(getEvent, input))).code).toBe('HTTP_500');
    expect((await failure(transport.request(getEvent, input))).code).toBe('HTTP_418');
  });

  it('rejects a success whose body is not JSON { data } with INVALID_RESPONSE and the response status', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res, hit) => {
      res.writeHead(200, { 'content-type': hit === 1 ? 'text/plain' : 'application/json', 'x-request-id': 'req-ok' });
      res.end(hit === 1 ? 'OK' : '{"id":"e1"}');
    });

    const notJson = await failure(transport.request(getEvent, input));
    const noData = await failure(transport.request(getEvent, input));

    expect(notJson).toMatchObject({ status: 200, code: 'INVALID_RESPONSE', requestId: 'req-ok', problem: undefined });
    expect(noData).toMatchObject({ status: 200, code: 'INVALID_RESPONSE' });
    expect(server.requests).toHaveLength(2);
  });

  it('gives up an attempt after timeoutMs with TIMEOUT and status 0', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, timeoutMs: 50, retry: false });
    server.handle(() => undefined);

    const started = Date.now();
    const error = await failure(transport.request(getEvent, input));

    expect(error.code).toBe('TIMEOUT');
    expect(error.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects with ABORTED when the caller aborts, and does not retry even a GET', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, retry: { baseDelayMs: 1 } });
    server.handle(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);

    const error = await failure(transport.request(getEvent, { ...input, signal: controller.signal }));

    expect(error.code).toBe('ABORTED');
    expect(error.status).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: 1 }));

    const error = await failure(transport.request(getEvent, { ...input, signal: AbortSignal.abort() }));

    expect(error.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(0);
  });

  it('rejects with NETWORK_ERROR and status 0 when the server cannot be reached', async () => {
    const transport = createTransport({ baseUrl: `http://127.0.0.1:${await closedPort()}`, retry: false });

    const error = await failure(transport.request(getEvent, input));

    expect(error.code).toBe('NETWORK_ERROR');
    expect(error.status).toBe(0);
    expect(error.cause).toBeDefined();
  });
});
