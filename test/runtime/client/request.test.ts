import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, type OperationDescriptor } from '../../../runtime/client/index';
import { sendJson, startServer, type TestServer } from './server';

const getEvent: OperationDescriptor = {
  operationId: 'getEvent',
  method: 'GET',
  path: '/api/v1/events/{eventId}',
  auth: false,
  paged: false,
};

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('request', () => {
  it('unwraps { data } from a 200 and a 201', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((req, res) => sendJson(res, req.method === 'POST' ? 201 : 200, { data: { id: 'e1', name: 'Milonga' } }));

    await expect(transport.request(getEvent, { params: { eventId: 'e1' } })).resolves.toEqual({ id: 'e1', name: 'Milonga' });
    await expect(
      transport.request({ ...getEvent, operationId: 'createEvent', method: 'POST', path: '/api/v1/events' }, { body: {} }),
    ).resolves.toEqual({ id: 'e1', name: 'Milonga' });
  });

  it('resolves undefined on 204', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => {
      res.writeHead(204);
      res.end();
    });

    const deleted = await transport.request({ ...getEvent, method: 'DELETE' }, { params: { eventId: 'e1' } });

    expect(deleted).toBeUndefined();
    expect(server.requests[0]?.method).toBe('DELETE');
  });

  it('returns the whole page body for a paged operation', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    const page = { data: [{ id: 1 }], page: { nextCursor: 'c1', hasMore: true } };
    server.handle((_req, res) => sendJson(res, 200, page));

    await expect(transport.request({ ...getEvent, path: '/api/v1/events', paged: true })).resolves.toEqual(page);
  });

  it('URI-encodes path parameters, numbers included', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: null }));

    await transport.request(
      { ...getEvent, path: '/api/v1/groups/{groupId}/events/{eventId}' },
      { params: { groupId: 'a b/c?d#e', eventId: 42 } },
    );

    expect(server.requests[0]?.url).toBe('/api/v1/groups/a%20b%2Fc%3Fd%23e/events/42');
  });

  it('rejects with a TypeError and sends nothing when a path parameter is missing', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: null }));

    await expect(transport.request(getEvent, { params: {} })).rejects.toThrow(TypeError);
    await expect(transport.request(getEvent)).rejects.toThrow(/eventId/);
    expect(server.requests).toHaveLength(0);
  });

  it('serializes the query: skips null/undefined, repeats arrays, ISO dates, strings for the rest', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: [] }));

    await transport.request(
      { ...getEvent, path: '/api/v1/events' },
      {
        query: {
          limit: 10,
          tag: ['vals', 'milonga', null],
          from: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
          online: false,
          q: 'a b&c=d',
          skipped: undefined,
          none: null,
        },
      },
    );

    const url = new URL(server.requests[0]?.url ?? '', server.baseUrl);
    expect(url.pathname).toBe('/api/v1/events');
    expect(url.searchParams.get('limit')).toBe('10');
    expect(url.searchParams.getAll('tag')).toEqual(['vals', 'milonga']);
    expect(url.searchParams.get('from')).toBe('2025-01-02T03:04:05.000Z');
    expect(url.searchParams.get('online')).toBe('false');
    expect(url.searchParams.get('q')).toBe('a b&c=d');
    expect(url.searchParams.has('skipped')).toBe(false);
    expect(url.searchParams.has('none')).toBe(false);
  });

  it('sends no "?" when the query is empty', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: [] }));

    await transport.request({ ...getEvent, path: '/api/v1/events' }, { query: { cursor: undefined } });

    expect(server.requests[0]?.url).toBe('/api/v1/events');
  });

  it('accepts a base URL with or without a trailing slash, keeping its path prefix', async () => {
    server.handle((_req, res) => sendJson(res, 200, { data: 'ok' }));

    await createTransport({ baseUrl: `${server.baseUrl}/` }).request(getEvent, { params: { eventId: '1' } });
    await createTransport({ baseUrl: `${server.baseUrl}/backend//` }).request(getEvent, { params: { eventId: '2' } });
    await createTransport({ baseUrl: `${server.baseUrl}/backend` }).request(getEvent, { params: { eventId: '3' } });

    expect(server.requests.map((r) => r.url)).toEqual(['/api/v1/events/1', '/backend/api/v1/events/2', '/backend/api/v1/events/3']);
  });

  it('sends the body as JSON with method, Accept, content-type, client and per-request headers', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl, headers: { 'x-client': 'web', 'x-both': 'client' } });
    server.handle((_req, res) => sendJson(res, 201, { data: { id: 'p1' } }));

    await transport.request(
      { ...getEvent, operationId: 'createPost', method: 'POST', path: '/api/v1/posts' },
      { body: { title: 'Cabeceo', tags: ['etiquette'] }, headers: { 'x-both': 'request' } },
    );

    const received = server.requests[0];
    expect(received?.method).toBe('POST');
    expect(JSON.parse(received?.body ?? '')).toEqual({ title: 'Cabeceo', tags: ['etiquette'] });
    expect(received?.headers['content-type']).toBe('application/json');
    expect(received?.headers.accept).toBe('application/json');
    expect(received?.headers['x-client']).toBe('web');
    expect(received?.headers['x-both']).toBe('request');
    expect(received?.headers['idempotency-key']).toBeUndefined();
  });

  it('sends no body and no content-type without a body', async () => {
    const transport = createTransport({ baseUrl: server.baseUrl });
    server.handle((_req, res) => sendJson(res, 200, { data: null }));

    await transport.request(getEvent, { params: { eventId: '1' } });

    expect(server.requests[0]?.body).toBe('');
    expect(server.requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('sends the bearer token only for operations that need auth and only when there is one', async () => {
    let token: string | null = 'tok-1';
    const transport = createTransport({
      baseUrl: server.baseUrl,
      tokens: { getAccessToken: () => Promise.resolve(token) },
    });
    server.handle((_req, res) => sendJson(res, 200, { data: null }));
    const getMe: OperationDescriptor = { ...getEvent, operationId: 'getMe', path: '/api/v1/me', auth: true };

    await transport.request(getMe);
    await transport.request(getEvent, { params: { eventId: '1' } });
    token = null;
    await transport.request(getMe);

    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', undefined, undefined]);
  });

  it('uses the fetch given in the options', async () => {
    const seen: string[] = [];
    const transport = createTransport({
      baseUrl: server.baseUrl,
      fetch: (url, init) => {
        seen.push(String(url));
        return fetch(url, init);
      },
    });
    server.handle((_req, res) => sendJson(res, 200, { data: 1 }));

    await expect(transport.request(getEvent, { params: { eventId: 'x' } })).resolves.toBe(1);
    expect(seen).toEqual([`${server.baseUrl}/api/v1/events/x`]);
  });
});
