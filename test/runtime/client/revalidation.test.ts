import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, type OperationDescriptor } from '../../../runtime/client/index';
import { createRevalidationCache } from '../../../runtime/client/revalidation';
import { sendJson, startServer, type TestServer } from './server';

const getEvent: OperationDescriptor = {
  operationId: 'getEvent',
  method: 'GET',
  path: '/api/v1/events/{eventId}',
  auth: true,
  paged: false,
};

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** A server that answers 304 to the ETag it last sent, as the runtime does for a cacheable GET. */
function revalidatingServer(version: { n: number }) {
  server.handle((req, res) => {
    const etag = `"v${version.n}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    sendJson(res, 200, { data: { id: 'e1', version: version.n } }, { etag });
  });
}

describe('revalidation with ETags', () => {
  it('sends If-None-Match with the ETag it holds and answers a 304 from what it held', async () => {
    const version = { n: 1 };
    revalidatingServer(version);
    const transport = createTransport({ baseUrl: server.baseUrl, tokens: { getAccessToken: () => 'token-a' } });

    const first = await transport.request<{ version: number }>(getEvent, { params: { eventId: 'e1' } });
    expect(first).toEqual({ id: 'e1', version: 1 });
    // What the caller does with its copy does not change what is held.
    first.version = 99;
    const second = await transport.request(getEvent, { params: { eventId: 'e1' } });
    expect(second).toEqual({ id: 'e1', version: 1 });
    expect(server.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"']);

    version.n = 2;
    await expect(transport.request(getEvent, { params: { eventId: 'e1' } })).resolves.toEqual({ id: 'e1', version: 2 });
  });

  it('holds answers per token: another user does not get mine', async () => {
    revalidatingServer({ n: 1 });
    let token = 'token-a';
    const transport = createTransport({ baseUrl: server.baseUrl, tokens: { getAccessToken: () => token } });
    await transport.request(getEvent, { params: { eventId: 'e1' } });
    token = 'token-b';
    await transport.request(getEvent, { params: { eventId: 'e1' } });
    expect(server.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, undefined]);
  });

  it('holds nothing with revalidate: 0, and nothing for a write', async () => {
    revalidatingServer({ n: 1 });
    const off = createTransport({ baseUrl: server.baseUrl, revalidate: 0 });
    await off.request(getEvent, { params: { eventId: 'e1' } });
    await off.request(getEvent, { params: { eventId: 'e1' } });
    const transport = createTransport({ baseUrl: server.baseUrl });
    const patch = { ...getEvent, method: 'PATCH' as const };
    await transport.request(patch, { params: { eventId: 'e1' }, body: {} });
    await transport.request(patch, { params: { eventId: 'e1' }, body: {} });
    expect(server.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('keeps at most max answers, dropping the least recently used', () => {
    const cache = createRevalidationCache(2);
    cache.set('a', '"1"', 1);
    cache.set('b', '"2"', 2);
    cache.get('a');
    cache.set('c', '"3"', 3);
    expect([cache.get('a')?.value, cache.get('b')?.value, cache.get('c')?.value]).toEqual([1, undefined, 3]);
  });
});
